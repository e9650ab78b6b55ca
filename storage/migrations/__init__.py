# SPDX-License-Identifier: Apache-2.0
"""Versioned schema migrations: `NNNN_name.sql` files applied in order by `storage.migrate`."""
