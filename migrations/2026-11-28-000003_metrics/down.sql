DROP TABLE metrics_models;
DROP TABLE rfm_breakpoints;
ALTER TABLE customers DROP COLUMN first_day_spent, DROP COLUMN order_days;
