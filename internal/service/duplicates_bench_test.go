package service_test

import (
	"bufio"
	"context"
	"encoding/csv"
	"fmt"
	"io"
	mrand "math/rand/v2"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"custos/internal/access"
	"custos/internal/crm"
	"custos/internal/quality"
	"custos/internal/service"
	"custos/internal/store"
	"custos/internal/testdb"
	"custos/internal/testorg"
	"custos/internal/vault"
)

// BenchmarkDuplicateScan measures a duplicate scan of generated contacts
// (docs/benchmarks.md, "Duplicate scan"): CUSTOS_BENCH_DUP_N contacts
// (default 10,000), one in ten a near copy of an earlier one, half with
// Latin and half with Chinese names, loaded through CreateContact (the entry
// duplicate check refuses an exact mobile or e-mail, so copies change or
// drop them), on SQLite or, with CUSTOS_BENCH_DUP_DIALECT=postgres, on
// CUSTOS_TEST_POSTGRES. Only the scan is timed; recall and precision are
// reported against the generated truth.
func BenchmarkDuplicateScan(b *testing.B) {
	n := 10_000
	if v, err := strconv.Atoi(os.Getenv("CUSTOS_BENCH_DUP_N")); err == nil && v > 0 {
		n = v
	}
	dialect := store.SQLite
	if os.Getenv("CUSTOS_BENCH_DUP_DIALECT") == "postgres" {
		dialect = store.Postgres
	}
	ctx := context.Background()
	// CUSTOS_BENCH_DUP_DIR keeps a SQLite benchmark's database, vault and
	// generated truth in that directory: the first run loads them, later
	// runs find them and only scan (a million contacts take many minutes to
	// load; each scan rewrites only its own blocks and pairs).
	keep := os.Getenv("CUSTOS_BENCH_DUP_DIR")
	if dialect != store.SQLite {
		keep = ""
	}
	var db *store.DB
	var vlt *vault.Vault
	if keep == "" {
		db, vlt = testdb.Open(b, dialect), testorg.NewVault(b)
	} else {
		db, vlt = openKept(b, keep)
	}
	// Loading is one actor entering contacts in bulk: the hourly limit on
	// entry checks by phone (an oracle for people) would stop it.
	svc := service.New(db, service.Options{Vault: vlt, Argon2: testorg.CheapArgon,
		SensitiveSearchesPerHour: service.UnlimitedSensitiveSearches})
	truthFile := filepath.Join(keep, "truth.csv")
	entity, loaded := readTruth(b, keep, truthFile)
	if !loaded {
		if _, err := svc.Bootstrap(ctx, "HQ"); err != nil {
			b.Fatal(err)
		}
	}
	admin, err := svc.UserActor(ctx, 1)
	if err != nil {
		b.Fatal(err)
	}
	start := time.Now()
	if !loaded {
		for _, f := range []crm.CustomField{
			{Object: crm.ObjContact, Key: "dob", Label: "生日", Type: "date", Sensitive: true, Active: true},
			{Object: crm.ObjContact, Key: "id_no", Label: "证件号", Type: "text", Sensitive: true, Active: true},
			{Object: crm.ObjContact, Key: "postcode", Label: "邮编", Type: "text", Active: true},
		} {
			if _, err := svc.SaveCustomField(ctx, admin, f); err != nil {
				b.Fatal(err)
			}
		}
		people := genPeople(n)
		if os.Getenv("CUSTOS_BENCH_DUP_LOAD") == "import" {
			entity = importPeople(b, svc, admin, people)
		} else {
			entity = enterPeople(b, svc, admin, people)
		}
		if keep != "" { // loaded: the next run scans
			writeTruth(b, truthFile, entity)
			b.Logf("%d contacts loaded into %s in %v", len(entity), keep, time.Since(start).Round(time.Second))
			return
		}
	}
	generated := time.Since(start)
	truth := 0
	perEntity := map[int]int{}
	for _, e := range entity {
		perEntity[e]++
	}
	for _, k := range perEntity {
		truth += k * (k - 1) / 2
	}

	var scan crm.DupScan
	var elapsed time.Duration
	for b.Loop() {
		t0 := time.Now()
		scan, err = svc.ScanDuplicates(ctx, admin, crm.ObjContact, quality.DefaultMatchRules())
		elapsed += time.Since(t0)
		if err != nil {
			b.Fatal(err)
		}
	}
	tp, fp := 0, 0
	f := service.DuplicateFilter{Limit: 1000}
	for {
		page, err := svc.DuplicatePairs(ctx, admin, crm.ObjContact, f)
		if err != nil {
			b.Fatal(err)
		}
		for _, p := range page.Pairs {
			if entity[p.IDA] == entity[p.IDB] {
				tp++
			} else {
				fp++
			}
		}
		if len(page.Pairs) < f.Limit {
			break
		}
		last := page.Pairs[len(page.Pairs)-1].DupPair
		f.After = &last
	}
	b.ReportMetric(float64(scan.Records)/(elapsed.Seconds()/float64(b.N)), "records/s")
	b.ReportMetric(float64(tp)/float64(max(truth, 1)), "recall")
	b.ReportMetric(float64(tp)/float64(max(tp+fp, 1)), "precision")
	hwm := ""
	if st, err := os.ReadFile("/proc/self/status"); err == nil {
		for _, l := range strings.Split(string(st), "\n") {
			if strings.HasPrefix(l, "VmHWM") {
				hwm = strings.Join(strings.Fields(l)[1:], " ")
			}
		}
	}
	b.Logf("%s: %d contacts generated in %v; scan %v: %d records, %d keys, %d oversized blocks skipped, %d candidates, "+
		"%d pairs (tp %d, fp %d, truth %d); peak RSS of the process %s", dialect, len(entity), generated.Round(time.Second),
		(elapsed / time.Duration(b.N)).Round(time.Millisecond), scan.Records, scan.Keys, scan.BlocksSkipped, scan.Candidates,
		scan.Pairs, tp, fp, truth, hwm)
}

// enterPeople loads people through CreateContact, six at a time, and
// returns each contact's entity.
func enterPeople(b *testing.B, svc *service.Service, admin *access.Actor, people []genPerson) map[int64]int {
	ctx := context.Background()
	start := time.Now()
	entity := make(map[int64]int, len(people))
	var mu sync.Mutex
	var wg sync.WaitGroup
	next := make(chan int)
	for range 6 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				c, err := svc.CreateContact(ctx, admin, people[i].fields)
				if crm.IsCode(err, crm.Duplicate) || crm.IsCode(err, crm.Invalid) {
					continue // a random mobile met an earlier one, or is not a number in use
				}
				if err != nil {
					b.Error(err)
					continue
				}
				mu.Lock()
				entity[c.ID] = people[i].entity
				mu.Unlock()
			}
		}()
	}
	for i := range people {
		if i > 0 && i%100_000 == 0 {
			fmt.Fprintf(os.Stderr, "generated %d contacts in %v\n", i, time.Since(start).Round(time.Second))
		}
		next <- i
	}
	close(next)
	wg.Wait()
	return entity
}

// importPeople loads people as one import of a CSV file (CUSTOS_BENCH_DUP_LOAD=import):
// the same checks per row, much faster. Rows the import refuses (a random
// mobile that met an earlier one, or one not in use) are left out, as
// enterPeople leaves them out.
func importPeople(b *testing.B, svc *service.Service, admin *access.Actor, people []genPerson) map[int64]int {
	ctx := context.Background()
	start := time.Now()
	f, err := os.CreateTemp(b.TempDir(), "people-*.csv")
	if err != nil {
		b.Fatal(err)
	}
	defer f.Close()
	w := csv.NewWriter(bufio.NewWriter(f))
	w.Write([]string{"编号", "姓名", "手机", "邮箱", "生日", "证件号", "邮编"})
	for i, p := range people {
		c := func(k string) string { v, _ := p.fields.Custom[k].(string); return v }
		w.Write([]string{strconv.Itoa(i), p.fields.Name, p.fields.Mobile, p.fields.Email, c("dob"), c("id_no"), c("postcode")})
	}
	w.Flush()
	if err := w.Error(); err != nil {
		b.Fatal(err)
	}
	size, _ := f.Seek(0, io.SeekCurrent)
	f.Seek(0, io.SeekStart)
	mapping := map[string]string{"编号": "external_id", "姓名": "name", "手机": "mobile", "邮箱": "email",
		"生日": "custom.dob", "证件号": "custom.id_no", "邮编": "custom.postcode"}
	pv, err := svc.PreviewImport(ctx, admin, service.ImportRequest{Object: crm.ObjContact, FileName: "people.csv", File: f, Size: size,
		Options: crm.ImportOptions{Mapping: mapping}})
	if err != nil {
		b.Fatal(err)
	}
	fmt.Fprintf(os.Stderr, "previewed %d rows in %v\n", pv.Import.Total, time.Since(start).Round(time.Second))
	if _, err := svc.CommitImport(ctx, admin, pv.Import.ID); err != nil {
		b.Fatal(err)
	}
	if err := svc.RunImport(ctx, pv.Import.ID, "bench", nil); err != nil {
		b.Fatal(err)
	}
	entity := make(map[int64]int, len(people))
	for after := 0; ; {
		rows, err := svc.ImportRows(ctx, admin, pv.Import.ID, after, 1000, false)
		if err != nil {
			b.Fatal(err)
		}
		for _, r := range rows {
			if r.Action == crm.RowCreate {
				entity[r.RecordID] = people[r.Line-2].entity
			}
			after = r.Line
		}
		if len(rows) < 1000 {
			break
		}
	}
	fmt.Fprintf(os.Stderr, "imported %d contacts in %v\n", len(entity), time.Since(start).Round(time.Second))
	return entity
}

// genPerson is one generated contact and the entity it stands for.
type genPerson struct {
	fields crm.ContactFields
	entity int
}

var (
	genGiven    = strings.Fields("james mary john patricia robert jennifer michael linda william elizabeth david barbara richard susan joseph jessica thomas sarah charles karen christopher nancy daniel lisa matthew betty anthony margaret mark sandra donald ashley steven kimberly paul emily andrew donna joshua michelle kenneth dorothy kevin carol brian amanda george melissa edward deborah ronald stephanie timothy rebecca jason sharon jeffrey laura ryan cynthia jacob kathleen gary amy nicholas shirley eric angela jonathan helen stephen anna larry brenda justin pamela scott nicole brandon emma benjamin samantha samuel katherine")
	genSyllable = strings.Fields("al ber car dan el fer gar han in jen kel lor mar nor ol per quin ros sal ter ul van wil xan yor zel bro cha dri est fos gle hur ith jar kru lin mon nik")
	genHanSur   = []rune("王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝龚邵万钱严覃武戴莫孔向汤")
	genHanGiven = []rune("伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华玉萍红鹏飞建国志文斌辉宇浩凯健俊帆帅旭宁龙林欣佳琳晨雪梅兰云峰亮成鑫波海燕婷颖慧倩雯思")
)

// genPeople makes n people: nine in ten originals, one in ten a near copy
// of an earlier original.
func genPeople(n int) []genPerson {
	r := mrand.New(mrand.NewPCG(42, uint64(n)))
	out := make([]genPerson, 0, n)
	var originals []int
	for i := range n {
		if len(originals) > 10 && r.IntN(10) == 0 {
			src := out[originals[r.IntN(len(originals))]]
			out = append(out, genPerson{fields: nearCopy(r, src.fields), entity: src.entity})
			continue
		}
		var name string
		if r.IntN(2) == 0 {
			surname := genSyllable[r.IntN(len(genSyllable))] + genSyllable[r.IntN(len(genSyllable))] + genSyllable[r.IntN(len(genSyllable))]
			name = genGiven[r.IntN(len(genGiven))] + " " + surname
		} else {
			name = string(genHanSur[r.IntN(len(genHanSur))]) + string(genHanGiven[r.IntN(len(genHanGiven))])
			if r.IntN(2) == 0 {
				name += string(genHanGiven[r.IntN(len(genHanGiven))])
			}
		}
		f := crm.ContactFields{Name: name, Custom: map[string]any{
			"dob": fmt.Sprintf("%04d-%02d-%02d", 1940+r.IntN(65), 1+r.IntN(12), 1+r.IntN(28)),
		}}
		if r.IntN(10) < 7 {
			f.Mobile = []string{"13", "15", "18"}[r.IntN(3)] + fmt.Sprintf("%09d", r.IntN(1_000_000_000))
		}
		if r.IntN(2) == 0 {
			f.Email = fmt.Sprintf("u%d.%d@example.com", i, r.IntN(1000))
		}
		if r.IntN(10) < 6 {
			f.Custom["id_no"] = fmt.Sprintf("%09d", r.IntN(1_000_000_000))
		}
		if r.IntN(10) < 8 {
			f.Custom["postcode"] = fmt.Sprintf("%06d", 100000+r.IntN(800)*100)
		}
		out = append(out, genPerson{fields: f, entity: i})
		originals = append(originals, i)
	}
	return out
}

// nearCopy changes a person as a second entry would: a typo or swapped
// name, a mistyped or missing date, mobile, e-mail or id number.
func nearCopy(r *mrand.Rand, f crm.ContactFields) crm.ContactFields {
	c := f
	c.Custom = map[string]any{}
	for k, v := range f.Custom {
		c.Custom[k] = v
	}
	name := []rune(c.Name)
	switch r.IntN(4) {
	case 0: // a wrong character
		i := r.IntN(len(name))
		if quality.IsHan(name[i]) {
			name[i] = genHanGiven[r.IntN(len(genHanGiven))]
		} else if name[i] != ' ' {
			name[i] = rune('a' + r.IntN(26))
		}
	case 1: // swapped words, or a stray space in a Chinese name
		if w := strings.Fields(c.Name); len(w) == 2 {
			name = []rune(w[1] + " " + w[0])
		} else if len(name) > 1 {
			name = []rune(string(name[:1]) + " " + string(name[1:]))
		}
	}
	c.Name = string(name)
	if d, ok := c.Custom["dob"].(string); ok && r.IntN(5) == 0 {
		b := []byte(d)
		b[8], b[9] = b[9], b[8] // transposed day digits
		if crm.CheckDate(string(b)) == "" {
			c.Custom["dob"] = string(b)
		}
	}
	if c.Mobile != "" { // an exact mobile would be refused at entry
		if r.IntN(2) == 0 {
			c.Mobile = ""
		} else {
			m := []byte(c.Mobile)
			m[len(m)-1] = byte('0' + (int(m[len(m)-1]-'0')+1)%10)
			c.Mobile = string(m)
		}
	}
	if c.Email != "" {
		c.Email = ""
	}
	if id, ok := c.Custom["id_no"].(string); ok && r.IntN(5) == 0 {
		b := []byte(id)
		b[3] = byte('0' + (int(b[3]-'0')+1)%10)
		c.Custom["id_no"] = string(b)
	}
	return c
}

// openKept opens (creating on first use) the SQLite database and vault kept
// in dir for CUSTOS_BENCH_DUP_DIR.
func openKept(b *testing.B, dir string) (*store.DB, *vault.Vault) {
	ctx := context.Background()
	db, err := store.Open(ctx, store.Options{Dir: filepath.Join(dir, "data")})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { db.Close() })
	vd := filepath.Join(dir, "vault")
	v, _, err := vault.Open(ctx, vault.Options{MasterKeyFile: filepath.Join(vd, "master.key"),
		KeyStore: filepath.Join(vd, "keystore.db"), SnapshotDir: filepath.Join(vd, "snapshots")})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { v.Close() })
	return db, v
}

// readTruth reads the kept contacts' entities ("id,entity" lines), if a
// previous run wrote them.
func readTruth(b *testing.B, keep, file string) (map[int64]int, bool) {
	if keep == "" {
		return nil, false
	}
	f, err := os.Open(file)
	if os.IsNotExist(err) {
		return nil, false
	} else if err != nil {
		b.Fatal(err)
	}
	defer f.Close()
	entity := map[int64]int{}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		id, e, _ := strings.Cut(sc.Text(), ",")
		i, err1 := strconv.ParseInt(id, 10, 64)
		n, err2 := strconv.Atoi(e)
		if err1 != nil || err2 != nil {
			b.Fatalf("%s: bad line %q", file, sc.Text())
		}
		entity[i] = n
	}
	if err := sc.Err(); err != nil {
		b.Fatal(err)
	}
	return entity, true
}

// writeTruth writes the loaded contacts' entities for later runs.
func writeTruth(b *testing.B, file string, entity map[int64]int) {
	var sb strings.Builder
	for id, e := range entity {
		fmt.Fprintf(&sb, "%d,%d\n", id, e)
	}
	if err := os.WriteFile(file, []byte(sb.String()), 0o600); err != nil {
		b.Fatal(err)
	}
}
