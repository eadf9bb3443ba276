-- The sinks' cursors go; the events and chains they point into stay.
DROP TABLE audit_sink_cursors;
