"""autogrant: apply-free job-stabilisation refunds (失业保险稳岗返还 免申即享)."""
