package service

import (
	"context"
	"encoding/json"
	"errors"
	"hash/fnv"
	"io"
	"maps"
	"runtime"
	"strconv"
	"strings"
	"sync"

	"custos/internal/access"
	"custos/internal/crm"
	"custos/internal/i18n"
	"custos/internal/store"
	"custos/internal/transfer"
	"custos/internal/vault"
)

// importBatch is how many rows commit together. A batch holds the SQLite
// writer while it runs, so it stays small enough (about a tenth of a
// second) that the team's own saves barely wait behind it.
const importBatch = 200

// importRun is one pass over an import's rows: the preview's dry run, or
// the commit.
type importRun struct {
	s      *Service
	a      *access.Actor
	im     crm.Import
	plan   *importPlan
	hooks  *importHooks
	dry    bool
	counts crm.ImportCounts
	ring   vault.KeyRing
	// users finds the owner column's users by user name or e-mail.
	users map[string]crm.User
	// turn is the next round-robin owner; owners are the users taking turns.
	turn   int
	owners []int64
	// assignable caches the owners the importer may give records to (mu:
	// the dry run plans rows in parallel).
	assignable map[int64]bool
	mu         sync.Mutex
	// seen holds the duplicate keys of earlier rows of the file (the dry
	// run), by a 128-bit hash of kind and key: the index in labels of the
	// row that held each. A million-row file holds two million keys; as
	// strings they took a few hundred megabytes.
	seen   map[[16]byte]int32
	labels []string
	// careful runs each row of a commit in a savepoint of its own, so a
	// row that fails leaves nothing behind while the batch goes on. A
	// savepoint costs SQLite a copy of every page the row touches (its
	// sub-journal: most of the CPU of an import), so a batch first runs
	// without them and only a batch with a failing row runs carefully.
	careful bool
	// risky are the lines of the batch that run in a savepoint even when
	// the batch is not run carefully (findRisky).
	risky map[int]bool
	// customers answers the lookup of the customers a commit batch's rows
	// name, by blinded key, from one query before its rows run
	// (preloadCustomers); nil answers from the database. made holds the
	// keys of the customers the running row created: they join customers
	// when the row is written, and go with it when it is rolled back.
	customers, made map[store.DedupKey]*store.DuplicateHit
}

// errRowFailed gives up a batch run without savepoints when one of its
// rows fails; the batch is run again carefully.
var errRowFailed = errors.New("service: a row of the batch failed")

// start loads what every row needs: the key of the import's own data, the
// users, the round-robin owners.
func (r *importRun) start(ctx context.Context) error {
	var err error
	if r.ring, err = r.s.vault.DataKeys(ctx, []string{r.im.DataKey}); err != nil {
		return err
	}
	r.seen, r.assignable, r.users = map[[16]byte]int32{}, map[int64]bool{}, map[string]crm.User{}
	opts := r.im.Options
	return r.s.db.ReadTx(ctx, func(tx *store.Tx) error {
		users, err := tx.ListUsers(ctx)
		if err != nil {
			return err
		}
		for _, u := range users {
			if u.Disabled {
				continue
			}
			r.users[strings.ToLower(u.Username)] = u
			if u.Email != "" {
				r.users[strings.ToLower(u.Email)] = u
			}
			if opts.OwnerRule == crm.OwnerRoundRobin && len(opts.Owners) == 0 && u.DepartmentID == opts.DeptID {
				r.owners = append(r.owners, u.ID)
			}
		}
		if opts.OwnerRule == crm.OwnerRoundRobin && len(opts.Owners) > 0 {
			r.owners = opts.Owners
		}
		if opts.OwnerRule == crm.OwnerRoundRobin && len(r.owners) == 0 {
			return &crm.Error{Code: crm.Invalid, Message: "no users to take turns",
				Fields: []crm.FieldError{{Field: "owners", Rule: "required"}}}
		}
		return nil
	})
}

// all runs the dry run over every row and stores the plan; it returns the
// rows to show (problems first) and the number of data rows.
func (r *importRun) all(ctx context.Context, rd *transfer.Reader) ([]crm.ImportRow, int, error) {
	var shown, fine []crm.ImportRow
	total := 0
	for {
		batch, err := readBatch(rd, 500)
		if err != nil {
			return nil, 0, err
		}
		if len(batch) == 0 {
			break
		}
		rows, raws, err := r.planBatch(ctx, batch)
		if err != nil {
			return nil, 0, err
		}
		if err := r.s.db.WriteTx(ctx, func(tx *store.Tx) error { return tx.PutImportRows(ctx, r.im.ID, rows, raws) }); err != nil {
			return nil, 0, err
		}
		for _, row := range rows {
			r.counts.Add(row.Planned)
			if row.Reason != "" && len(shown) < previewRowsShown {
				shown = append(shown, row)
			} else if len(fine) < previewRowsShown {
				fine = append(fine, row)
			}
		}
		total += len(batch)
	}
	return append(shown, fine[:min(len(fine), previewRowsShown-len(shown))]...), total, nil
}

// planBatch plans a batch of the dry run: the rows are checked against
// the database in parallel, a share of the batch per core, each share in a
// read transaction of its own (they see the same committed data: the dry
// run writes no records); then, in file order, each row that would be
// created is checked against the earlier rows of the file. Round-robin
// owners are handed out in file order, so such an import plans on one core.
func (r *importRun) planBatch(ctx context.Context, batch []fileRow) ([]crm.ImportRow, []string, error) {
	rows := make([]crm.ImportRow, len(batch))
	raws := make([]string, len(batch))
	found := make([]inFile, len(batch))
	workers := runtime.GOMAXPROCS(0)
	if r.im.Options.OwnerRule == crm.OwnerRoundRobin {
		workers = 1
	}
	share := (len(batch) + workers - 1) / workers
	errs := make([]error, workers)
	var wg sync.WaitGroup
	for w, start := 0, 0; start < len(batch); w, start = w+1, start+share {
		end := min(start+share, len(batch))
		wg.Go(func() {
			errs[w] = r.s.db.ReadTx(ctx, func(tx *store.Tx) error {
				for i := start; i < end; i++ {
					var err error
					if rows[i], raws[i], err = r.one(ctx, tx, batch[i], &found[i]); err != nil {
						return err
					}
				}
				return nil
			})
		})
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		return nil, nil, err
	}
	for i := range batch {
		if err := r.checkInFile(&rows[i], &raws[i], found[i], batch[i].cells); err != nil {
			return nil, nil, err
		}
	}
	return rows, raws, nil
}

// inFile is what the check within the file needs of a row planned to be
// created: its blinded duplicate keys and the label that names it.
type inFile struct {
	keys  []store.DedupKey
	label string
}

// checkInFile refuses a row planned to be created whose duplicate key an
// earlier row of the file holds, and remembers the keys of one that passes.
func (r *importRun) checkInFile(row *crm.ImportRow, raw *string, f inFile, cells []string) error {
	if row.Planned != crm.RowCreate {
		return nil
	}
	for _, k := range f.keys {
		if k.Key == "" {
			continue
		}
		if i, ok := r.seen[seenKey(k)]; ok {
			first := r.labels[i]
			err := &crm.Error{Code: crm.Duplicate, Key: "duplicate_in_file", Message: "the same as " + first + " earlier in the file",
				Fields: []crm.FieldError{{Field: dedupFields[k.Kind], Rule: "duplicate_in_file", Param: first}}}
			row.Planned, row.Reason, row.DuplicateOf = crm.RowDuplicate, rowReason(r.a.Lang, err), first
			if *raw == "" {
				var serr error
				if *raw, serr = sealCells(r.ring, r.im.DataKey, cells); serr != nil {
					return serr
				}
			}
			return nil
		}
	}
	r.labels = append(r.labels, f.label)
	for _, k := range f.keys {
		if k.Key != "" {
			r.seen[seenKey(k)] = int32(len(r.labels) - 1)
		}
	}
	return nil
}

// fileRow is one row as read: its cells, or why it could not be read.
type fileRow struct {
	line  int
	cells []string
	bad   *transfer.RowError
}

// readBatch reads up to n rows; a row the reader refuses is a row too.
func readBatch(rd *transfer.Reader, n int) ([]fileRow, error) {
	var out []fileRow
	for len(out) < n {
		row, err := rd.Next()
		var bad *transfer.RowError
		switch {
		case errors.Is(err, io.EOF):
			return out, nil
		case errors.As(err, &bad):
			out = append(out, fileRow{line: bad.Line, cells: bad.Raw, bad: bad})
		case err != nil:
			return nil, err
		default:
			out = append(out, fileRow{line: row.Line, cells: slicesClone(row.Cells)})
		}
	}
	return out, nil
}

func slicesClone(s []string) []string { return append([]string(nil), s...) }

// one plans (dry run) or carries out one row inside tx. A problem of the
// row's own (its data, a duplicate, a missing link) is the row's outcome;
// an error is returned only when the transaction itself failed. The dry
// run leaves the check within the file to checkInFile, with what it needs
// in found.
func (r *importRun) one(ctx context.Context, tx *store.Tx, in fileRow, found *inFile) (crm.ImportRow, string, error) {
	row := crm.ImportRow{Line: in.line}
	var err error
	if in.bad != nil {
		err = &crm.Error{Code: crm.Invalid, Message: in.bad.Error(),
			Fields: []crm.FieldError{{Field: "row", Rule: in.bad.Rule, Param: in.bad.Param}}}
	} else if r.dry {
		err = r.plan1(ctx, tx, in.cells, &row, found)
	} else {
		if r.careful || r.risky[in.line] {
			err = tx.Savepoint(ctx, func() error { return r.commit1(ctx, tx, in.cells, &row) })
		} else if err = r.commit1(ctx, tx, in.cells, &row); err != nil {
			// The row may have written part of itself: the batch is
			// given up and run again row by row in savepoints.
			return row, "", errRowFailed
		}
		if err == nil && r.customers != nil {
			maps.Copy(r.customers, r.made)
		}
		clear(r.made)
	}
	action := &row.Action
	if r.dry {
		action = &row.Planned
	}
	var ce *crm.Error
	switch {
	case err == nil:
	case errors.As(err, &ce) && ce.Code == crm.Duplicate:
		*action, row.Reason = crm.RowDuplicate, rowReason(r.a.Lang, err)
	case errors.As(err, &ce) && ce.Code != crm.Internal && ce.Code != crm.Unavailable:
		*action, row.Reason = crm.RowFail, rowReason(r.a.Lang, err)
	default:
		return row, "", err
	}
	raw := ""
	if row.Reason != "" {
		if raw, err = sealCells(r.ring, r.im.DataKey, in.cells); err != nil {
			return row, "", err
		}
	}
	return row, raw, nil
}

// prepared is a row ready for its object's hooks.
type prepared struct {
	conv   importRow
	fields []byte
	owner  int64
	// existing is the record a known external id became (0: a new one).
	existing int64
	// pending is set in the dry run when the row's customer is one the
	// commit will create.
	pending bool
}

// prepare converts a row, resolves its links and owner and finds the
// record its external id already became.
func (r *importRun) prepare(ctx context.Context, tx *store.Tx, cells []string, row *crm.ImportRow) (prepared, error) {
	var p prepared
	var err error
	conv, probs := r.plan.convert(cells)
	row.ExternalID, p.conv = conv.externalID, conv
	if err := probs.Err(); err != nil {
		return p, err
	}
	if p.pending, err = r.resolveLinks(ctx, tx, &conv); err != nil {
		return p, err
	}
	if p.owner, err = r.ownerOf(ctx, tx, conv); err != nil {
		return p, err
	}
	if conv.externalID != "" {
		known, err := tx.ExternalRecords(ctx, r.im.Object, r.im.Source, []string{conv.externalID})
		if err != nil {
			return p, err
		}
		p.existing = known[conv.externalID]
	}
	p.fields, err = conv.rowJSON()
	return p, err
}

// plan1 is the dry run of one row: the object's entry check and the
// duplicate check in the organisation; found gets what the check within
// the file needs (checkInFile).
func (r *importRun) plan1(ctx context.Context, tx *store.Tx, cells []string, row *crm.ImportRow, found *inFile) error {
	p, err := r.prepare(ctx, tx, cells, row)
	if err != nil {
		return err
	}
	if p.existing != 0 {
		row.Planned, row.RecordID = crm.RowUpdate, p.existing
		if r.hooks.update == nil {
			row.Planned, row.Reason = crm.RowSkip, alreadyImported(r.a.Lang)
		}
		return nil
	}
	// A customer the commit will create cannot be linked to yet.
	keys, err := r.hooks.check(ctx, r.s, tx, r.a, p.fields, !p.pending)
	if err != nil {
		return err
	}
	blind := r.s.lookupKeys(checkedKeys(keys))
	hit, err := tx.FindDuplicate(ctx, blind, string(r.im.Object), 0)
	if err != nil {
		return err
	}
	if hit != nil {
		row.DuplicateOf = r.labelOf(ctx, tx, hit)
		return duplicateRefusal(hit)
	}
	ws, err := r.s.possibleDuplicates(ctx, tx, r.a, keys, r.im.Object, 0)
	if err != nil {
		return err
	}
	r.warn(ctx, tx, row, ws)
	label := row.ExternalID
	if label == "" {
		label = "row " + strconv.Itoa(row.Line)
	}
	// A label cut from the row's cells would keep the whole row alive.
	*found = inFile{keys: blind, label: strings.Clone(label)}
	row.Planned = crm.RowCreate
	return nil
}

// seenKey is the hash a duplicate key is remembered by within the file.
func seenKey(k store.DedupKey) [16]byte {
	h := fnv.New128a()
	h.Write([]byte(k.Kind))
	h.Write([]byte{0})
	h.Write([]byte(k.Key))
	var out [16]byte
	h.Sum(out[:0])
	return out
}

// commit1 carries out one row: an update of the record its external id
// became, or a create through the object's create use case.
func (r *importRun) commit1(ctx context.Context, tx *store.Tx, cells []string, row *crm.ImportRow) error {
	p, err := r.prepare(ctx, tx, cells, row)
	if err != nil {
		return err
	}
	if p.existing != 0 {
		row.Action, row.RecordID = crm.RowUpdate, p.existing
		if r.hooks.update == nil {
			row.Action, row.Reason = crm.RowSkip, alreadyImported(r.a.Lang)
			return nil
		}
		return r.hooks.update(ctx, r.s, tx, r.a, p.existing, p.fields)
	}
	id, ws, err := r.hooks.create(ctx, r.s, tx, r.a, p.fields, p.owner)
	var ce *crm.Error
	if errors.As(err, &ce) && ce.Code == crm.Duplicate {
		keys, kerr := r.hooks.check(ctx, r.s, tx, r.a, p.fields, false)
		if kerr == nil {
			if hit, herr := tx.FindDuplicate(ctx, r.s.lookupKeys(checkedKeys(keys)), string(r.im.Object), 0); herr == nil && hit != nil {
				row.DuplicateOf = r.labelOf(ctx, tx, hit)
			}
		}
	}
	if err != nil {
		return err
	}
	if r.im.Options.OwnerRule == crm.OwnerPool {
		if err := r.toPool(ctx, tx, id); err != nil {
			return err
		}
	}
	if p.conv.externalID != "" {
		if err := tx.PutExternalID(ctx, r.im.Object, r.im.Source, p.conv.externalID, id, r.im.ID); err != nil {
			return err
		}
	}
	row.Action, row.RecordID = crm.RowCreate, id
	r.warn(ctx, tx, row, ws)
	return nil
}

// warn notes on a row the warnings its entry gave: it is imported (or
// planned), and its reason asks for a review, naming the other record as a
// duplicate is named.
func (r *importRun) warn(ctx context.Context, tx *store.Tx, row *crm.ImportRow, ws []crm.Warning) {
	for _, w := range ws {
		lang := i18n.Pick(r.a.Lang, "")
		row.Reason = i18n.Tf(lang, "import.possible_duplicate", w.Owner)
		if w.Owner == "" {
			row.Reason = i18n.T(lang, "import.possible_duplicate_pool")
		}
		if w.RecordID != 0 {
			row.DuplicateOf = r.labelOf(ctx, tx, &store.DuplicateHit{Object: string(w.Object), RecordID: w.RecordID})
		}
	}
}

// toPool puts a customer just created into the public pool.
func (r *importRun) toPool(ctx context.Context, tx *store.Tx, id int64) error {
	if err := tx.SetCustomerOwner(ctx, id, 0, r.a.UserID, r.s.clock()); err != nil {
		return err
	}
	if err := tx.InsertPoolMoves(ctx, store.PoolEnter, r.a.UserID, r.a.UserID, r.s.clock(), id); err != nil {
		return err
	}
	return r.s.audit(ctx, tx, r.a, "customer.release", crm.ObjCustomer, id, map[string]change{"owner_id": {From: r.a.UserID, To: nil}})
}

// labelOf names the record a row duplicates: its external id, else its
// id — but only when the importer may see the record; one outside their
// scope is named by its owner alone (the reason says "exists, owned by X").
func (r *importRun) labelOf(ctx context.Context, tx *store.Tx, hit *store.DuplicateHit) string {
	o := crm.Object(hit.Object)
	read := objectHooks[o].read
	if read == nil {
		return ""
	}
	if _, err := read(ctx, r.s, tx, r.a, hit.RecordID); err != nil {
		return ""
	}
	ext, err := tx.ExternalIDsOf(ctx, o, []int64{hit.RecordID})
	if err == nil && ext[hit.RecordID] != "" {
		return ext[hit.RecordID]
	}
	return strconv.FormatInt(hit.RecordID, 10)
}

// ownerOf applies the import's owner rule to a row: 0 means the importer.
func (r *importRun) ownerOf(ctx context.Context, tx *store.Tx, conv importRow) (int64, error) {
	var id int64
	switch r.im.Options.OwnerRule {
	case crm.OwnerColumn:
		if conv.owner == "" {
			return 0, nil
		}
		u, ok := r.users[strings.ToLower(conv.owner)]
		if !ok {
			return 0, &crm.Error{Code: crm.Invalid, Message: "no such user",
				Fields: []crm.FieldError{{Field: "owner", Rule: "unknown_user", Param: conv.owner}}}
		}
		id = u.ID
	case crm.OwnerRoundRobin:
		id = r.owners[r.turn%len(r.owners)]
		r.turn++
	default:
		return 0, nil
	}
	if id == r.a.UserID {
		return 0, nil
	}
	r.mu.Lock()
	ok, known := r.assignable[id]
	r.mu.Unlock()
	if !known {
		err := r.s.checkAssignable(ctx, tx, r.a, r.im.Object, id)
		var ce *crm.Error
		if err != nil && !errors.As(err, &ce) {
			return 0, err
		}
		ok = err == nil
		r.mu.Lock()
		r.assignable[id] = ok
		r.mu.Unlock()
	}
	if !ok {
		return 0, &crm.Error{Code: crm.Forbidden, Message: "you cannot give records to this user",
			Fields: []crm.FieldError{{Field: "owner", Rule: "owner_scope"}}}
	}
	return id, nil
}

// resolveLinks turns the row's link columns into the ids of the records
// it belongs to: a customer by external id, credit code or name (created
// when the import asks for it), other records by external id. pending
// reports a customer the dry run found missing and the commit will create.
func (r *importRun) resolveLinks(ctx context.Context, tx *store.Tx, conv *importRow) (pending bool, err error) {
	for target, v := range conv.links {
		ref, byExternal := strings.CutSuffix(target, "_external_id")
		var id int64
		switch {
		case byExternal:
			var known map[string]int64
			if known, err = tx.ExternalRecords(ctx, crm.Object(ref), r.im.Source, []string{v}); err == nil {
				id = known[v]
			}
		default:
			id, err = r.customerNamed(ctx, tx, v)
		}
		if err != nil {
			return false, err
		}
		if id == 0 {
			return false, &crm.Error{Code: crm.Invalid, Message: "no such record",
				Fields: []crm.FieldError{{Field: target, Rule: "not_found", Param: v}}}
		}
		if id < 0 {
			pending, id = true, 0
		}
		conv.fields[ref+"_id"] = id
	}
	return pending, nil
}

// customerNamed finds a live customer by credit code or name through the
// duplicate-check keys (the same normalisation as entry), or creates it
// when the import asks for that.
func (r *importRun) customerNamed(ctx context.Context, tx *store.Tx, name string) (int64, error) {
	blind := r.customerKeys(name)
	hit, err := r.findCustomer(ctx, tx, blind)
	if err != nil {
		return 0, err
	}
	if hit != nil && crm.Object(hit.Object) == crm.ObjCustomer {
		return hit.RecordID, nil
	}
	if !r.im.Options.CreateCustomers || r.dry {
		// In the dry run a customer to be created counts as found.
		if r.im.Options.CreateCustomers {
			return -1, nil
		}
		return 0, nil
	}
	c := crm.Customer{CustomerFields: crm.CustomerFields{Name: name, Status: crm.CustomerStatuses[0]}}
	if err := r.s.createCustomerTx(ctx, tx, r.a, &c, 0); err != nil {
		return 0, err
	}
	if r.customers != nil {
		for _, k := range blind {
			r.made[k] = &store.DuplicateHit{Kind: k.Kind, Object: string(crm.ObjCustomer), RecordID: c.ID}
		}
	}
	return c.ID, nil
}

// customerKeys are the blinded keys a customer named in a row is looked up
// by: its name as a company name and as a credit code, normalised as entry
// normalises them.
func (r *importRun) customerKeys(name string) []store.DedupKey {
	f := crm.CustomerFields{Name: name, CreditCode: name}
	keys, _ := r.s.normalizeCustomer(&f)
	return r.s.lookupKeys(checkedKeys(keys))
}

// findCustomer is FindDuplicate over blind, answered from the batch's
// preloaded customers when it asked for every key.
func (r *importRun) findCustomer(ctx context.Context, tx *store.Tx, blind []store.DedupKey) (*store.DuplicateHit, error) {
	if r.customers == nil {
		return tx.FindDuplicate(ctx, blind, "", 0)
	}
	for _, k := range blind {
		if _, asked := r.customers[k]; !asked {
			return tx.FindDuplicate(ctx, blind, "", 0)
		}
	}
	for _, k := range blind {
		if h := r.customers[k]; h != nil {
			return h, nil
		}
	}
	return nil, nil
}

// preloadCustomers looks up, with one query per kind of key, the customers
// the rows of a commit batch name, for customerNamed.
func (r *importRun) preloadCustomers(ctx context.Context, tx *store.Tx, batch []fileRow) error {
	var blind []store.DedupKey
	for _, in := range batch {
		if in.bad != nil {
			continue
		}
		conv, _ := r.plan.convert(in.cells)
		for target, v := range conv.links {
			if _, byExternal := strings.CutSuffix(target, "_external_id"); !byExternal {
				blind = append(blind, r.customerKeys(v)...)
			}
		}
	}
	r.customers, r.made = nil, map[store.DedupKey]*store.DuplicateHit{}
	if len(blind) == 0 {
		return nil
	}
	var err error
	r.customers, err = tx.FindDuplicates(ctx, blind)
	return err
}

// sealCells keeps a row's original cells for the error report, sealed
// under the import's key.
func sealCells(ring vault.KeyRing, key string, cells []string) (string, error) {
	b, err := json.Marshal(cells)
	if err != nil {
		return "", err
	}
	return ring.Seal(key, "import.row", string(b))
}

func openCells(ring vault.KeyRing, key, sealed string) ([]string, error) {
	plain, err := ring.Open(key, "import.row", sealed)
	if err != nil {
		return nil, err
	}
	var cells []string
	return cells, json.Unmarshal([]byte(plain), &cells)
}

// rowReason says in the user's language what is wrong with a row: each
// field and why, as the form would say it.
func rowReason(lang string, err error) string {
	lang = i18n.Pick(lang, "")
	var ce *crm.Error
	// A stage's criteria are refused in one sentence naming them all, as
	// the board and the API say it.
	if !errors.As(err, &ce) || len(ce.Fields) == 0 || ce.Key == "stage_criteria" {
		return i18n.Message(lang, err)
	}
	parts := make([]string, len(ce.Fields))
	for i, f := range ce.Fields {
		parts[i] = i18n.FieldMessage(lang, f)
	}
	sep := "; "
	if lang == i18n.ZH {
		sep = "；"
	}
	return strings.Join(parts, sep)
}

// alreadyImported is the reason a row of history imported before is skipped.
func alreadyImported(lang string) string {
	return i18n.T(i18n.Pick(lang, ""), "import.already_imported")
}
