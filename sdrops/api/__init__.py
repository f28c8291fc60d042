"""The project's API base, shared by every app's `api.py`: authentication (integration
tokens), permissions (scopes), throttling, the JSON parser, cursor pagination, the error
handler (`support`), and the report `Scope` (who and what period a report or list covers,
`scope`). Domain apps import from here; nothing here imports an app's API."""
