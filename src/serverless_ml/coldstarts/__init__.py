"""``serverless-ml coldstarts``: cold starts of a deployed function, read from its CloudWatch
logs (REPORT / INIT_* / RESTORE_* lines, Text or JSON format), per version and alias.

log_lines (one line -> a typed record), reader (window, FilterLogEvents pages), lambda_api
(aliases, logging config), report (aggregation), render (text / JSON), insights (the Logs
Insights queries), compare and schedule (local bench and planner side by side), cli.
"""
