package service

import (
	"bytes"
	"cmp"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"time"

	"custos/internal/access"
	"custos/internal/crm"
	"custos/internal/quality"
	"custos/internal/store"
)

// The duplicate finder over existing data (issue 14 §3). A scan reads an
// object's live records in id order, a page at a time, opens them and files
// each under blocking keys (quality.BlockingKeys) blinded by the vault, so
// the scratch table holds no value; SQL pairs the records that share a key
// (skipping oversized blocks), the pairs are compared (quality.MatchRules)
// with the records fetched again in batches behind a bounded cache, and the
// pairs at or above the threshold are kept. Memory holds a page and the
// cache, never the object.

// Scan tuning: records per page, the cache bound, the lease.
const (
	dupPage       = 1000
	dupCacheLimit = 50_000
	dupLease      = 10 * time.Minute
)

// DuplicateObjects are the objects the finder scans: those whose records
// are merged as duplicates and have a name.
var DuplicateObjects = crm.ObjectsWhere(func(s crm.ObjectSpec) bool {
	_, named := s.Field("name")
	return named && slices.ContainsFunc(s.Fields, func(f crm.FieldSpec) bool { return f.Mergeable })
})

// ScanDuplicates runs the finder over an object's live records under the
// rules (administrators only: the scan reads every record) and returns the
// scan with its counts. One scan per object runs at a time, across
// instances (a job lease); the run is audited as one event.
func (s *Service) ScanDuplicates(ctx context.Context, a *access.Actor, o crm.Object, rules quality.MatchRules) (crm.DupScan, error) {
	if err := s.requireAdmin(ctx, a, "duplicates.scan"); err != nil {
		return crm.DupScan{}, err
	}
	if !slices.Contains(DuplicateObjects, o) {
		return crm.DupScan{}, objectProblem()
	}
	if field, rule := rules.Validate(); field != "" {
		var p crm.Problems
		p.Add(field, rule, ruleRanges[field])
		return crm.DupScan{}, p.Err()
	}
	holder, lease := newLeaseHolder(), "duplicates:"+string(o)
	scan := crm.DupScan{Object: o, Threshold: rules.Threshold, StartedAt: s.clock()}
	var claimed bool
	err := s.db.WriteTx(ctx, func(tx *store.Tx) error {
		var err error
		now := s.clock()
		if claimed, err = tx.ClaimLease(ctx, lease, holder, now.Add(dupLease), now); err != nil || !claimed {
			return err
		}
		return tx.InsertDupScan(ctx, &scan)
	})
	if err != nil {
		return scan, err
	}
	if !claimed {
		return scan, &crm.Error{Code: crm.Conflict, Key: "duplicate_scan_running", Message: "a duplicate scan of this object is running"}
	}
	done := context.WithoutCancel(ctx)
	defer func() {
		if err := s.db.WriteTx(done, func(tx *store.Tx) error { return tx.ReleaseLease(done, lease, holder) }); err != nil {
			s.logger.Error("duplicates: release the scan's lease", "err", err)
		}
	}()
	f := &finder{s: s, o: o, rules: rules, scan: &scan, lease: lease, holder: holder}
	runErr := f.run(ctx)
	finished := s.clock()
	scan.FinishedAt, scan.Status = &finished, crm.DupScanDone
	if runErr != nil {
		scan.Status = crm.DupScanFailed
	}
	err = s.db.WriteTx(done, func(tx *store.Tx) error {
		if err := tx.DropDupBlocks(done, scan.ID); err != nil {
			return err
		}
		if err := tx.FinishDupScan(done, scan); err != nil {
			return err
		}
		if runErr == nil {
			if err := tx.DropEarlierDupPairs(done, o, scan.ID); err != nil {
				return err
			}
		}
		detail := map[string]any{"scan": scan.ID, "threshold": scan.Threshold, "records": scan.Records, "keys": scan.Keys,
			"blocks_skipped": scan.BlocksSkipped, "candidates": scan.Candidates, "pairs": scan.Pairs, "status": scan.Status}
		return s.audit(done, tx, a, "duplicates.scan", o, 0, detail)
	})
	if runErr != nil {
		return scan, fmt.Errorf("service: duplicate scan of %s: %w", o, runErr)
	}
	return scan, err
}

// ruleRanges say, per part of the rules, the range Validate holds it to.
var ruleRanges = map[string]string{"threshold": "0..1", "min_agree": "0..", "min_evidence": "0..", "block_limit": "2..10000"}

// objectProblem refuses an object the finder does not scan, naming those it does.
func objectProblem() error {
	names := make([]string, len(DuplicateObjects))
	for i, o := range DuplicateObjects {
		names[i] = string(o)
	}
	var p crm.Problems
	p.Add("object", "enum", strings.Join(names, ", "))
	return p.Err()
}

func newLeaseHolder() string {
	b := make([]byte, 8)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// finder is one scan's state.
type finder struct {
	s             *Service
	o             crm.Object
	rules         quality.MatchRules
	scan          *crm.DupScan
	lease, holder string
	fields        []matchSpec
}

// matchSpec is one compared field: its name, kind and where its value is
// in a record's JSON (a built-in field or a custom value).
type matchSpec struct {
	name   string
	kind   quality.MatchKind
	custom bool
}

func (f *finder) run(ctx context.Context) error {
	if err := f.s.db.ReadTx(ctx, func(tx *store.Tx) error {
		defs, err := tx.ListCustomFields(ctx, f.o)
		f.fields = matchSpecs(f.o, defs)
		return err
	}); err != nil {
		return err
	}
	if err := f.block(ctx); err != nil {
		return err
	}
	err := f.s.db.WriteTx(ctx, func(tx *store.Tx) error {
		var err error
		f.scan.BlocksSkipped, err = tx.IndexDupBlocks(ctx, f.scan.ID, f.rules.BlockLimit, quality.WeakBlockLimit)
		return err
	})
	if err != nil {
		return err
	}
	return f.compare(ctx)
}

// matchSpecs derives the compared fields from the registry: names (a
// sealed name is a person's, another a company's), phones, e-mails, codes,
// dates and the other sensitive text (addresses, IM ids); and the custom
// fields holding text, dates, phones or e-mails.
func matchSpecs(o crm.Object, defs []crm.CustomField) []matchSpec {
	spec, _ := crm.Spec(o)
	var out []matchSpec
	for _, fs := range spec.Fields {
		var kind quality.MatchKind
		switch {
		case fs.Search == crm.SearchName && fs.Sealed:
			kind = quality.MatchPersonName
		case fs.Search == crm.SearchName:
			kind = quality.MatchCompany
		case fs.Type == crm.TypePhone:
			kind = quality.MatchPhone
		case fs.Type == crm.TypeEmail:
			kind = quality.MatchEmail
		case fs.Type == crm.TypeCreditCode:
			kind = quality.MatchCode
		case fs.Type == crm.TypeDate:
			kind = quality.MatchDate
		case fs.Type == crm.TypeText && fs.Sensitive:
			kind = quality.MatchText
		default:
			continue
		}
		out = append(out, matchSpec{name: fs.Name, kind: kind})
	}
	for _, d := range defs {
		kinds := map[string]quality.MatchKind{"text": quality.MatchText, "date": quality.MatchDate,
			"phone": quality.MatchPhone, "email": quality.MatchEmail}
		if k, ok := kinds[d.Type]; ok && d.Active {
			out = append(out, matchSpec{name: d.Key, kind: k, custom: true})
		}
	}
	return out
}

// matchRecord reads a record's id and compared values (opened) through its
// JSON shape: the registry's field names are its JSON names.
func (f *finder) matchRecord(rec any) (quality.MatchRecord, error) {
	b, err := json.Marshal(rec)
	if err != nil {
		return quality.MatchRecord{}, err
	}
	var all map[string]any
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	if err := dec.Decode(&all); err != nil {
		return quality.MatchRecord{}, err
	}
	id, err := all["id"].(json.Number).Int64()
	if err != nil {
		return quality.MatchRecord{}, fmt.Errorf("service: duplicate scan: a %T without an id", rec)
	}
	custom, _ := all["custom"].(map[string]any)
	out := quality.MatchRecord{ID: id, Fields: make([]quality.MatchField, 0, len(f.fields))}
	for _, fs := range f.fields {
		v := all[fs.name]
		if fs.custom {
			v = custom[fs.name]
		}
		if str, _ := v.(string); str != "" {
			out.Fields = append(out.Fields, quality.MatchField{Name: fs.name, Kind: fs.kind, Value: str})
		}
	}
	return out, nil
}

// open opens records and reads their compared values.
func (f *finder) open(ctx context.Context, recs []any) ([]quality.MatchRecord, error) {
	if err := openAll(ctx, f.s, recs); err != nil {
		return nil, err
	}
	out := make([]quality.MatchRecord, len(recs))
	for i, r := range recs {
		mr, err := f.matchRecord(r)
		if err != nil {
			return nil, err
		}
		out[i] = mr
	}
	return out, nil
}

// renew extends the scan's lease; losing it stops the scan.
func (f *finder) renew(ctx context.Context, tx *store.Tx) error {
	now := f.s.clock()
	ok, err := tx.ClaimLease(ctx, f.lease, f.holder, now.Add(dupLease), now)
	if err == nil && !ok {
		err = &crm.Error{Code: crm.Conflict, Key: "duplicate_scan_running", Message: "the scan's lease was taken over"}
	}
	return err
}

// block files every live record under its blind blocking keys. Reading,
// opening and keying a page runs beside the write of the one before, so
// the writer and the decryption each keep a core busy.
func (f *finder) block(ctx context.Context) error {
	type page struct {
		blocks  []store.DupBlock
		records int
		err     error
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	pages := make(chan page, 1)
	send := func(p page) bool { return sendUnlessDone(ctx, pages, p) }
	go func() {
		defer close(pages)
		domain := "dup:" + string(f.o)
		for after := int64(0); ; {
			var recs []any
			err := f.s.db.ReadTx(ctx, func(tx *store.Tx) error {
				var err error
				recs, err = tx.LiveRecordsAfter(ctx, f.o, after, dupPage)
				return err
			})
			if err != nil {
				send(page{err: err})
				return
			}
			if len(recs) == 0 { // every record read
				return
			}
			mrs, err := f.open(ctx, recs)
			if err != nil {
				send(page{err: err})
				return
			}
			p := page{records: len(mrs)}
			for _, mr := range mrs {
				for _, k := range quality.BlockingKeys(mr) {
					key := blockKey(f.s.vault.SearchTerm(domain, k))
					if strings.HasPrefix(k, quality.WeakKeyPrefix) {
						key |= 1
					}
					p.blocks = append(p.blocks, store.DupBlock{Key: key, RecordID: mr.ID})
				}
			}
			after = mrs[len(mrs)-1].ID
			if !send(p) {
				return
			}
		}
	}()
	for p := range pages {
		if p.err != nil {
			return p.err
		}
		if err := f.s.db.WriteTx(ctx, func(tx *store.Tx) error {
			if err := f.renew(ctx, tx); err != nil {
				return err
			}
			return tx.PutDupBlocks(ctx, f.scan.ID, p.blocks)
		}); err != nil {
			return err
		}
		f.scan.Records += int64(p.records)
		f.scan.Keys += int64(len(p.blocks))
	}
	return ctx.Err()
}

// compare scores the candidate pairs, walking the blocked records in id
// order a page at a time; a record is fetched once while it is cached and
// dropped when no later pair can need it. Fetching and opening the next
// page's records runs beside the scoring of this one.
func (f *finder) compare(ctx context.Context) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	pages := make(chan candidatePage, 1)
	send := func(p candidatePage) bool { return sendUnlessDone(ctx, pages, p) }
	go func() {
		defer close(pages)
		cache := map[int64]quality.MatchRecord{}
		for after := int64(0); ; {
			p, last, err := f.candidates(ctx, cache, after)
			if err != nil {
				send(candidatePage{err: err})
				return
			}
			if last == 0 { // no records left
				return
			}
			after = last
			if !send(p) {
				return
			}
		}
	}()
	for p := range pages {
		if p.err != nil {
			return p.err
		}
		var kept []crm.DupPair
		for _, c := range p.pairs {
			if m := f.rules.Compare(c[0], c[1]); m.Passed {
				kept = append(kept, crm.DupPair{ScanID: f.scan.ID, Object: f.o, IDA: c[0].ID, IDB: c[1].ID, Score: m.Score,
					Reasons: m.Explain()})
			}
		}
		f.scan.Candidates += int64(p.cands)
		f.scan.Pairs += int64(len(kept))
		if err := f.s.db.WriteTx(ctx, func(tx *store.Tx) error {
			if err := f.renew(ctx, tx); err != nil {
				return err
			}
			return tx.PutDupPairs(ctx, kept)
		}); err != nil {
			return err
		}
	}
	return ctx.Err()
}

// blockKey keeps 64 bits of a blind term's HMAC ("b1:<base64>"): enough
// to tell blocks apart (a collision only adds a candidate pair), and an
// integer column indexes faster than the text. The lowest bit is left 0:
// the finder sets it on a weak key (store.DupBlock).
func blockKey(term string) int64 {
	_, tag, _ := strings.Cut(term, ":")
	b, err := base64.RawURLEncoding.DecodeString(tag)
	if err != nil || len(b) < 8 {
		h := sha256.Sum256([]byte(term))
		b = h[:]
	}
	return int64(binary.BigEndian.Uint64(b[:8]) &^ 1)
}

// sendUnlessDone hands v to the next stage, or reports false when the
// stage stopped (ctx is cancelled when it returns).
func sendUnlessDone[T any](ctx context.Context, ch chan<- T, v T) bool {
	select {
	case ch <- v:
		return true
	case <-ctx.Done():
		return false
	}
}

// candidatePage is one page of candidate pairs, opened, for scoring.
type candidatePage struct {
	pairs [][2]quality.MatchRecord
	cands int // candidate pairs, those whose record was deleted since included
	err   error
}

// candidates reads the candidate pairs of the next page of blocked records
// after the id after, with both records opened (from the cache or fetched
// into it); last is the page's last id, 0 when no records are left.
func (f *finder) candidates(ctx context.Context, cache map[int64]quality.MatchRecord, after int64) (page candidatePage, last int64, err error) {
	var ids []int64
	var cands [][2]int64
	if err := f.s.db.ReadTx(ctx, func(tx *store.Tx) error {
		var err error
		if ids, err = tx.DupBlockRecordsAfter(ctx, f.scan.ID, after, dupPage); err != nil || len(ids) == 0 {
			return err
		}
		cands, err = tx.DupCandidates(ctx, f.scan.ID, ids[0], ids[len(ids)-1])
		return err
	}); err != nil || len(ids) == 0 {
		return page, 0, err
	}
	// Pairs are (a, b) with a < b and a at or above this page: records
	// below it are never needed again.
	for id := range cache {
		if id < ids[0] {
			delete(cache, id)
		}
	}
	if len(cache) > dupCacheLimit {
		clear(cache)
	}
	var missing []int64
	for _, c := range cands {
		for _, id := range c {
			if _, ok := cache[id]; !ok {
				cache[id] = quality.MatchRecord{ID: -1} // deleted since it was blocked, unless fetched below
				missing = append(missing, id)
			}
		}
	}
	slices.Sort(missing)
	if len(missing) > 0 {
		var recs []any
		if err := f.s.db.ReadTx(ctx, func(tx *store.Tx) error {
			var err error
			recs, err = tx.LiveRecordsByID(ctx, f.o, missing)
			return err
		}); err != nil {
			return page, 0, err
		}
		mrs, err := f.open(ctx, recs)
		if err != nil {
			return page, 0, err
		}
		for _, mr := range mrs {
			cache[mr.ID] = mr
		}
	}
	page.cands = len(cands)
	for _, c := range cands {
		if ra, rb := cache[c[0]], cache[c[1]]; ra.ID >= 0 && rb.ID >= 0 {
			page.pairs = append(page.pairs, [2]quality.MatchRecord{ra, rb})
		}
	}
	return page, ids[len(ids)-1], nil
}

// DuplicateFilter narrows a list of pairs: at or above MinScore, after the
// cursor (a pair of the previous page), at most Limit (1..1000, default 100).
type DuplicateFilter struct {
	MinScore float64
	After    *crm.DupPair
	Limit    int
}

// DuplicatePage is a page of the latest scan's pairs.
type DuplicatePage struct {
	Scan  crm.DupScan     `json:"scan"`
	Pairs []DuplicatePair `json:"pairs"`
	// Clusters groups the page's records that its pairs join (three
	// records of one person are one cluster of three), largest first.
	Clusters [][]int64 `json:"clusters"`
}

// clusters joins the records of pairs into connected groups, each sorted,
// largest (then lowest id) first.
func clusters(pairs []DuplicatePair) [][]int64 {
	parent := map[int64]int64{}
	var root func(id int64) int64
	root = func(id int64) int64 {
		p, ok := parent[id]
		if !ok || p == id {
			parent[id] = id
			return id
		}
		r := root(p)
		parent[id] = r
		return r
	}
	for _, p := range pairs {
		ra, rb := root(p.IDA), root(p.IDB)
		if ra != rb {
			parent[max(ra, rb)] = min(ra, rb)
		}
	}
	groups := map[int64][]int64{}
	for id := range parent {
		r := root(id)
		groups[r] = append(groups[r], id)
	}
	out := make([][]int64, 0, len(groups))
	for _, g := range groups {
		slices.Sort(g)
		out = append(out, g)
	}
	slices.SortFunc(out, func(a, b []int64) int {
		if len(a) != len(b) {
			return len(b) - len(a)
		}
		return cmp.Compare(a[0], b[0])
	})
	return out
}

// DuplicatePair is a pair as a reader sees it: both records' titles shaped
// by the reader's field rules, and their external ids (from imports).
type DuplicatePair struct {
	crm.DupPair
	ExternalA string `json:"external_id_a"`
	ExternalB string `json:"external_id_b"`
}

// DuplicatePairs lists the pairs of the object's latest finished scan among
// records the actor may see (both of them), highest score first; the read
// is audited with the records shown.
func (s *Service) DuplicatePairs(ctx context.Context, a *access.Actor, o crm.Object, f DuplicateFilter) (DuplicatePage, error) {
	var page DuplicatePage
	if !slices.Contains(DuplicateObjects, o) {
		return page, objectProblem()
	}
	if err := s.require(ctx, a, o, crm.ActRead); err != nil {
		return page, err
	}
	if f.MinScore < 0 || f.MinScore > 1 {
		var p crm.Problems
		p.Add("min_score", "range", "0..1")
		return page, p.Err()
	}
	if f.Limit <= 0 {
		f.Limit = 100
	}
	f.Limit = min(f.Limit, 1000)
	var ids []int64
	err := s.db.ReadTx(ctx, func(tx *store.Tx) error {
		var err error
		if page.Scan, err = tx.LatestDupScan(ctx, o); crm.IsCode(err, crm.NotFound) {
			return nil // never scanned: no pairs
		} else if err != nil {
			return err
		}
		scope := store.NameScope{Scope: a.SharedScope(o, false), Child: childScope(a, o, false),
			PoolVisible: a.Can(crm.ObjCustomer, crm.ActRead)}
		pairs, err := tx.DupPairs(ctx, store.DupPairQuery{ScanID: page.Scan.ID, Object: o, Scope: scope, MinScore: f.MinScore,
			After: f.After, Limit: f.Limit})
		if err != nil || len(pairs) == 0 {
			return err
		}
		for _, p := range pairs {
			ids = append(ids, p.IDA, p.IDB)
		}
		slices.Sort(ids)
		ids = slices.Compact(ids)
		names, err := s.recordNames(ctx, tx, a, o, ids)
		if err != nil {
			return err
		}
		ext, err := tx.ExternalIDsOf(ctx, o, ids)
		if err != nil {
			return err
		}
		for _, p := range pairs {
			p.TitleA, p.TitleB = names[p.IDA], names[p.IDB]
			page.Pairs = append(page.Pairs, DuplicatePair{DupPair: p, ExternalA: ext[p.IDA], ExternalB: ext[p.IDB]})
		}
		return nil
	})
	if err != nil {
		return DuplicatePage{}, err
	}
	if err := s.auditRead(ctx, a, "duplicates.list", o, 0, ids); err != nil {
		return DuplicatePage{}, err
	}
	page.Clusters = clusters(page.Pairs)
	return page, nil
}
