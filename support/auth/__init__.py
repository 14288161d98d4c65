"""Login, logout and the role checks every blueprint uses."""
