-- A customer name search checks each candidate (every customer holding the
-- searched bigram, ~500 for a common brand) against the reader's scope and
-- takes its sort key. On SQLite every read commits its audit event, which
-- empties the readers' page caches, so each check was a page read from the
-- operating system even in the narrow probe index of 0024: ~300 pages for
-- one brand search (docs/benchmarks.md). customer_terms keeps beside each
-- customer term what the check needs, so a term's candidates are a few
-- adjacent pages. The database keeps it true: triggers follow every change
-- of search_terms and of a customer's owner, update time and deletion,
-- whichever code path makes it. The page a search shows is still read from
-- customers and checked against the scope there.
CREATE TABLE customer_terms (
    term       TEXT    NOT NULL,
    record_id  INTEGER NOT NULL,
    owner_id   INTEGER,
    updated_at INTEGER NOT NULL,
    deleted    INTEGER NOT NULL,
    PRIMARY KEY (term, record_id)
) WITHOUT ROWID;
CREATE INDEX customer_terms_record ON customer_terms(record_id);

INSERT INTO customer_terms (term, record_id, owner_id, updated_at, deleted)
SELECT st.term, c.id, c.owner_id, c.updated_at, c.deleted_at IS NOT NULL
FROM search_terms st JOIN customers c ON c.id = st.record_id WHERE st.object = 'customer';

CREATE TRIGGER customer_terms_add AFTER INSERT ON search_terms WHEN NEW.object = 'customer'
BEGIN
    INSERT OR REPLACE INTO customer_terms (term, record_id, owner_id, updated_at, deleted)
    SELECT NEW.term, c.id, c.owner_id, c.updated_at, c.deleted_at IS NOT NULL FROM customers c WHERE c.id = NEW.record_id;
END;
CREATE TRIGGER customer_terms_remove AFTER DELETE ON search_terms WHEN OLD.object = 'customer'
BEGIN
    DELETE FROM customer_terms WHERE term = OLD.term AND record_id = OLD.record_id;
END;
CREATE TRIGGER customer_terms_change AFTER UPDATE ON search_terms WHEN OLD.object = 'customer' OR NEW.object = 'customer'
BEGIN
    DELETE FROM customer_terms WHERE OLD.object = 'customer' AND term = OLD.term AND record_id = OLD.record_id;
    INSERT OR REPLACE INTO customer_terms (term, record_id, owner_id, updated_at, deleted)
    SELECT NEW.term, c.id, c.owner_id, c.updated_at, c.deleted_at IS NOT NULL FROM customers c
    WHERE NEW.object = 'customer' AND c.id = NEW.record_id;
END;
-- A customer's terms are written after the customer, so this finds none in
-- practice; it keeps the copy true whatever the order. INDEXED BY: left to
-- itself SQLite reads the terms from the primary key, which covers them but
-- is searchable by object only, scanning every customer term on every new
-- customer (4.5 ms per insert at 43,000 terms, growing with the table).
CREATE TRIGGER customer_terms_new_customer AFTER INSERT ON customers
BEGIN
    INSERT OR REPLACE INTO customer_terms (term, record_id, owner_id, updated_at, deleted)
    SELECT st.term, NEW.id, NEW.owner_id, NEW.updated_at, NEW.deleted_at IS NOT NULL
    FROM search_terms st INDEXED BY search_terms_record WHERE st.object = 'customer' AND st.record_id = NEW.id;
END;
CREATE TRIGGER customer_terms_follow AFTER UPDATE OF owner_id, updated_at, deleted_at ON customers
BEGIN
    UPDATE customer_terms SET owner_id = NEW.owner_id, updated_at = NEW.updated_at, deleted = NEW.deleted_at IS NOT NULL
    WHERE record_id = NEW.id;
END;
CREATE TRIGGER customer_terms_gone AFTER DELETE ON customers
BEGIN
    DELETE FROM customer_terms WHERE record_id = OLD.id;
END;
