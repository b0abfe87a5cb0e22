package service_test

import (
	"context"
	"fmt"
	"os"
	"strconv"
	"sync"
	"testing"
	"time"

	"custos/internal/crm"
	"custos/internal/quality"
	"custos/internal/service"
	"custos/internal/store"
	"custos/internal/testdb"
	"custos/internal/testorg"
)

// BenchmarkQualityCampaign measures, on CUSTOS_BENCH_CAMPAIGN_N customers
// (default 5,000, one owner), after a finished duplicate scan of them —
// so the report probes the pairs' indexes for every record — the quality
// report with its duplicate figures, starting a campaign over every
// customer (its items and the owner's task in one transaction) and the
// campaign's progress (docs/benchmarks.md, "Quality and review
// campaigns"). On SQLite, or with CUSTOS_BENCH_DUP_DIALECT=postgres on
// CUSTOS_TEST_POSTGRES. One in ten customers is a near copy of the one
// before (a district in brackets, the phone's last digit off); the default
// rules pair none of them, so the figure counts none (the probes are the
// cost measured).
func BenchmarkQualityCampaign(b *testing.B) {
	n := 5_000
	if v, err := strconv.Atoi(os.Getenv("CUSTOS_BENCH_CAMPAIGN_N")); err == nil && v > 0 {
		n = v
	}
	dialect := store.SQLite
	if os.Getenv("CUSTOS_BENCH_DUP_DIALECT") == "postgres" {
		dialect = store.Postgres
	}
	ctx := context.Background()
	db := testdb.Open(b, dialect)
	svc := service.New(db, service.Options{Vault: testorg.NewVault(b), Argon2: testorg.CheapArgon,
		SensitiveSearchesPerHour: service.UnlimitedSensitiveSearches})
	if _, err := svc.Bootstrap(ctx, "HQ"); err != nil {
		b.Fatal(err)
	}
	admin, err := svc.UserActor(ctx, 1)
	if err != nil {
		b.Fatal(err)
	}
	next := make(chan int)
	var wg sync.WaitGroup
	for range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				name, phone := benchCompany(i), fmt.Sprintf("0592-2%05d0", i)
				if i%10 == 9 { // a near copy of the one before: the name with a district, the phone's last digit off
					name, phone = benchCompany(i-1)+"（思明）", fmt.Sprintf("0592-2%05d1", i-1)
				}
				_, err := svc.CreateCustomer(ctx, admin, service.CustomerInput{CustomerFields: crm.CustomerFields{Name: name, Phone: phone}})
				if err != nil && !crm.IsCode(err, crm.Duplicate) {
					b.Error(err)
				}
			}
		}()
	}
	for i := range n {
		next <- i
	}
	close(next)
	wg.Wait()
	scan, err := svc.ScanDuplicates(ctx, admin, crm.ObjCustomer, quality.DefaultMatchRules())
	if err != nil {
		b.Fatal(err)
	}
	b.Logf("%d customers, %d pairs in the scan", scan.Records, scan.Pairs)
	b.Run("report", func(b *testing.B) {
		for b.Loop() {
			rep, err := svc.QualityReport(ctx, admin)
			if err != nil {
				b.Fatal(err)
			}
			if b.N == 1 {
				b.Logf("duplicates counted: %d", rep.Objects[0].Total.Duplicates)
			}
		}
	})
	var id int64
	b.Run("start", func(b *testing.B) {
		for b.Loop() {
			c, err := svc.StartCampaign(ctx, admin, crm.CampaignStart{Name: "bench", Objects: []crm.Object{crm.ObjCustomer},
				Selection: crm.SelectAll, DueAt: time.Now().Add(24 * time.Hour)})
			if err != nil {
				b.Fatal(err)
			}
			id = c.ID
		}
	})
	b.Run("progress", func(b *testing.B) {
		for b.Loop() {
			if _, err := svc.Campaign(ctx, admin, id); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// benchCompany names the i-th generated company with a core of three
// characters, so no blocking key is shared by too many.
func benchCompany(i int) string {
	chars := []rune("华信达通泰丰盛源鑫宏远恒兴隆昌瑞祥福安康宁和美佳创新科汇金银海山川云星月光明阳")
	k := len(chars)
	return "厦门" + string([]rune{chars[i%k], chars[(i/k)%k], chars[(i/k/k)%k]}) + "贸易有限公司"
}
