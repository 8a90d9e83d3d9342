"""The back office's home page: figures, charts and "my work" (docs/dashboard.md).

``figures`` reads (live indexed counts and chart series), ``snapshot`` the heavy sums over all
stock kept in a small table by a periodic task, ``widgets`` turns both into what one user may
see, ``callback`` is unfold's ``DASHBOARD_CALLBACK``.
"""
