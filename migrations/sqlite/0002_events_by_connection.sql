-- Events of one connection, for closing the connection rows a crash left open and for
-- per-connection reports. Partial: replayed events (no connection) do not pay for it; live
-- connection ids only grow, so the index is appended to at its right edge.
CREATE INDEX events_connection ON events (connection_id) WHERE connection_id IS NOT NULL;
CREATE INDEX rejects_connection ON rejects (connection_id) WHERE connection_id IS NOT NULL;
