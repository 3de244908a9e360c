DROP TABLE seat_event_cursors;
DROP TABLE seat_events;
