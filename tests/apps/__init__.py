"""Small Pivot servers shared by the TwiML tests."""
