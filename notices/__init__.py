"""Notices that find people: contacts, mail (SMTP) and group-robot delivery, the notice ledger, 催报."""
