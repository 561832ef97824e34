"""Terminal views of Seeker: the live dashboard, `seeker show`, and journal pretty-printing."""
