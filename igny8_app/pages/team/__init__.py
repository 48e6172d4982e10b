"""Team page: members, invitations, audit log."""
