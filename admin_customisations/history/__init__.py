"""History pages: safe revert (admin.py) and the per-model revert policy (revert.py)."""
