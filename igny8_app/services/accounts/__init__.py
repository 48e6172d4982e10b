"""Who may do what: accounts, users, passwords, tokens, sign-in, throttle, invitations, team, audit, sites."""
