-- Money is bounded (src/domain/money.rs): an amount, and a customer's total of orders, is at
-- most 10^13 minor units (100 billion currency units). The application refuses what would pass
-- it with BAD_USER_INPUT; these constraints hold it for any other writer. NOT VALID: rows
-- written before the bound (amounts were allowed up to 10^15 minor units) do not stop the
-- migration, and so the server, from starting; every new or updated row is checked.
ALTER TABLE activity_events
  ADD CONSTRAINT activity_events_amount_within_limit CHECK (amount BETWEEN -10000000000000 AND 10000000000000) NOT VALID;
ALTER TABLE customers
  ADD CONSTRAINT customers_total_spent_within_limit CHECK (total_spent <= 10000000000000) NOT VALID,
  ADD CONSTRAINT customers_first_day_spent_within_limit CHECK (first_day_spent <= 10000000000000) NOT VALID;
