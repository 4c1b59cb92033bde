ALTER TABLE customers
  DROP CONSTRAINT customers_first_day_spent_within_limit,
  DROP CONSTRAINT customers_total_spent_within_limit;
ALTER TABLE activity_events DROP CONSTRAINT activity_events_amount_within_limit;
