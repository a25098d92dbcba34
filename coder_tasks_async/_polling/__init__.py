"""The polling layer: following logs, watching and waiting, for one task or many.

Every poller is pull-based (nothing runs in the background) and paces itself with
the shared :mod:`.backoff` and error policy (:mod:`.error_policy`).
"""
