"""devhost's Durable HTTP API: public webhooks (``/runtime/webhooks/durabletask``) and the SDK's RPC base
(``/durabletask/``, paths in :mod:`devhost.http.paths`), both served by :mod:`devhost.http.instances`; the app's
HTTP functions (:mod:`devhost.http.app_routes`); all in one Application (:mod:`devhost.http.application`)."""
