DROP TABLE customer_notes;
DROP TABLE activity_events;
