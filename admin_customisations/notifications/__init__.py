"""Notifications: the inbox of each back-office user, filled by the scheduled checks.

``models`` (Notification, NotificationPreference), ``selectors`` (unread count and list),
``services`` (raising, releasing, marking read, email), ``checks`` (the scheduled checks),
``tasks`` (their Celery tasks) and ``admin`` (the inbox). See docs/notifications.md.
"""
