"""The customer's survey conversation as pure logic: inputs, decisions, texts, keyboards."""
