DROP TABLE customer_enrichment;
