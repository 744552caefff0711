"""Pure domain logic: NPS categories, scores and their statistical uncertainty."""
