"""devhost's Durable HTTP API: public webhooks (``/runtime/webhooks/durabletask``) and the SDK's RPC base
(``/durabletask/``), both served by :mod:`devhost.http.instances`. Other HTTP modules (app routes) live here too."""
