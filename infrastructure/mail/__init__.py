"""Mail adapters: the SMTP ``Mailer`` and the Jinja ``ReportRenderer``."""
