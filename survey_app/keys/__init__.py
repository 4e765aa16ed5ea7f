"""Keys and what they protect: sealing responses (`sealing`), each programme's key ring
(`custody`), TOTP secrets at rest, the secrets saved beside a backup, and the padding that
hides a payload's length."""
