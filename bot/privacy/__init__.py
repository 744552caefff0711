"""Customers' control over their data: export (/mydata), erasure (/delete_me, the ops API,
``npsbot erase``) and retention.

The modules here are pure logic (what to export, what erasure and retention do to each
table, confirmation buttons); every SQL statement lives in :mod:`storage.privacy`.
"""
