"""What people look at: the report stage's static page, the figures it and the review share, and the review page read beside `dvc metrics diff`."""
