"""Staff accounts and what they do: passwords and sign-in rules, roles and permissions,
programme and account administration, and the tamper-evident audit log."""
