"""The questionnaire a company shapes: wording per kind, event type and language; drivers."""
