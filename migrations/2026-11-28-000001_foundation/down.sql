DROP TABLE customer_addresses;
DROP TABLE customers;
DROP TABLE api_keys;
DROP TABLE stores;
