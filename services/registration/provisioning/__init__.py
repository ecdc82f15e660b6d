"""MX-ONE user provisioning: Provisioning Manager's users kept in CloudLink.

Pure parts (``users``, ``plan``) decide what to write; ``cloud_users`` talks
to the cloud's Users API and ``writes`` turns its answers into results;
``journal`` and ``syncs`` keep each sync durable; ``engine`` runs full syncs
and ``single`` single-user changes; ``servicer`` answers gRPC.
"""
