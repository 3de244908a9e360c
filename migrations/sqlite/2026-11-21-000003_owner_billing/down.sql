DROP TABLE invoice_lines;
DROP TABLE invoices;
DROP TABLE contracts;
DROP TABLE org_members;
