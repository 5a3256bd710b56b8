"""What sales learned about an account, logged for marketing."""
