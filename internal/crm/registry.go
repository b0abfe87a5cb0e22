package crm

import (
	"maps"
	"slices"
	"strings"
)

// The record registry (issue 13): one description per business object —
// its table, its fields with their types and labels, which are personal,
// searched, filtered, sorted, imported, exported and merged, its parent and
// what the system does with its records. Store, service and surfaces ask
// the registry instead of keeping a list or a switch of their own, so an
// object or a field is added here once. The descriptions are plain typed
// values (no reflection, no struct tags): the security-critical code that
// reads them stays readable and checked by the compiler. A test in
// internal/store holds each description against the real columns of both
// databases; tests in crm hold it against the lists not yet derived from it.

// FieldType is what a field holds, as far as storage, validation, masking,
// import and export need to know.
type FieldType string

// The field types.
const (
	TypeText       FieldType = "text"        // one line of text
	TypeLongText   FieldType = "long_text"   // free text over several lines (notes, follow-up content)
	TypeEnum       FieldType = "enum"        // one of Options
	TypePhone      FieldType = "phone"       // a phone number, stored in E.164
	TypeEmail      FieldType = "email"       // an e-mail address, stored in lower case
	TypeURL        FieldType = "url"         // a web address
	TypeCreditCode FieldType = "credit_code" // a unified social credit code, its check digit verified
	TypeTags       FieldType = "tags"        // a list of short labels, stored as a JSON array
	TypeDate       FieldType = "date"        // a calendar date, YYYY-MM-DD
	TypeTime       FieldType = "time"        // an instant, stored as Unix milliseconds
	TypeMoney      FieldType = "money"       // an amount in minor units (int64) of the record's currency field
	TypeCurrency   FieldType = "currency"    // an ISO 4217 code
	TypePercent    FieldType = "percent"     // a whole number 0-100
	TypeBool       FieldType = "bool"        // yes or no
	TypeRef        FieldType = "ref"         // the id of a record of Ref, or none
	TypeStage      FieldType = "stage"       // the id of a pipeline stage (configured, not a business object)
)

// SearchKind says how a list's search box finds records by a field.
type SearchKind string

// The search kinds: a field is found by its name terms (words and Chinese
// bigrams, blinded when the field is sealed) or by one exact normalised key
// of the kind. A search of a kind must find nothing when a field of that
// kind is hidden from the reader, so the kind is described per field.
const (
	SearchNone       SearchKind = ""
	SearchName       SearchKind = "name"
	SearchPhone      SearchKind = "phone"
	SearchEmail      SearchKind = "email"
	SearchCreditCode SearchKind = "credit_code"
)

// FieldSpec describes one built-in field of an object.
type FieldSpec struct {
	// Name is the field's JSON name: in the object's type, API bodies,
	// field rules, audit events and version snapshots.
	Name string
	// Column is the field's column in the object's table.
	Column string
	// Type is what the field holds.
	Type FieldType
	// Ref is, for a TypeRef field, the object it points at.
	Ref Object
	// Options are, for a TypeEnum field, the values it takes.
	Options []string
	// Label is the i18n key of the field's label, as the web shows it.
	Label string

	// Sealed values are stored only encrypted: under the person's data key
	// on a Personal object, else under a key of the record. They are found
	// only through blind indexes and never sorted or filtered on in SQL.
	Sealed bool
	// Sensitive values (DESIGN.md §4: a person's name, phones, e-mail, IM
	// id, address, ID numbers, and what is written about a person) are
	// recorded by reference only in the audit trail, never their values.
	Sensitive bool
	// PoolMasked values stay masked while a customer is in the public pool:
	// anyone may see the pool, only the one who claims a customer sees how
	// to reach it.
	PoolMasked bool

	// RuleField marks a field a role's field rules may name (hidden,
	// masked, read-only); Mask says how a masked value is shown (a Mask*
	// kind; MaskNone: not a string, so masked means withheld).
	RuleField bool
	Mask      string

	// Search is how a list's search box finds records by this field
	// (SearchNone: it does not).
	Search SearchKind
	// Filterable fields can narrow a list (?status=…, ?customer_id=…); the
	// service refuses a filter on a field the reader may not see.
	Filterable bool
	// Sort is the list order (sort=…) that orders by this field, "" if
	// none; the service refuses an order by a field the reader may not see.
	Sort string

	// Importable fields are set from an import file's columns: the fields a
	// user sets, references resolved by the importer included.
	Importable bool
	// Exportable fields are written by an export, shaped by the reader's
	// field rules like every read.
	Exportable bool
	// Mergeable fields are chosen, one record's value or the other's, when
	// two duplicate records are merged; what the system keeps is recomputed.
	Mergeable bool
	// System fields are kept by the system (derived from other records, or
	// set by a use case of their own such as a conversion), never set by a
	// create or an update; an edit of them causes no version conflict.
	System bool

	// Weight is the field's default weight in a record's completeness score
	// (0: not counted); an administrator may set others (data quality).
	Weight int
	// Channel fields are ways to reach the record (phones, e-mail, IM id):
	// a record with every one of them empty lacks its key fields.
	Channel bool
}

// Searchable reports whether a list's search box finds records by f.
func (f FieldSpec) Searchable() bool { return f.Search != SearchNone }

// Sortable reports whether a list can be ordered by f.
func (f FieldSpec) Sortable() bool { return f.Sort != "" }

// Indexed reports whether the object's records have index rows (search
// terms, exact keys): whether a field of it is searched.
func (s ObjectSpec) Indexed() bool { return slices.ContainsFunc(s.Fields, FieldSpec.Searchable) }

// ObjectSpec describes one business object.
type ObjectSpec struct {
	// Name is the object, as permissions, audit events and index rows name it.
	Name Object
	// Table is the object's table; Alias the table's alias in the store's SQL.
	Table string
	Alias string
	// Path is the object's plural path segment in URLs (/api/v1/<path>).
	Path string
	// Label is the i18n key of the object's name (plural, as menus say it).
	Label string
	// Title is the field that names a record where only a line is shown
	// (the recycle bin, lists of names): a follow-up is known by what it
	// says, a task by its title.
	Title string
	// Parent is the object whose record a record of this one belongs to
	// (customer for contacts, opportunities, follow-ups and tasks): whoever
	// may see the parent sees its children (DESIGN.md §4). "" for none.
	Parent Object

	// Recyclable records go to the recycle bin when deleted, come back when
	// restored, and are purged after the retention window.
	Recyclable bool
	// FollowsParent records go to the recycle bin with their parent and
	// come back with it (those deleted on their own before stay deleted).
	FollowsParent bool
	// Transferable records can be handed, one at a time, to a colleague by
	// whoever may edit them (subject to the transfer approval policy).
	Transferable bool
	// HandedOver records move to a colleague when their owner leaves or
	// changes job (offboarding and job change).
	HandedOver bool
	// Shareable records can be shared with a user or a department.
	Shareable bool
	// Versioned records keep every version of their user-set fields, to
	// compare and restore.
	Versioned bool
	// Custom objects carry custom fields an administrator defines (their
	// values in the custom column).
	Custom bool
	// Personal objects hold a person's data: their Sealed fields are sealed
	// under the person's data key (a lead and the contact it became share
	// one), which erasure destroys; privacy requests and retention act on them.
	Personal bool
	// Paged objects have a list of their own, paged by cursor and counted
	// (List… and Count…), searched and filtered; the job-change preview
	// counts what a user sees through it.
	Paged bool
	// Sorts are the orders (sort=…) a Paged list accepts, the default first.
	Sorts []string
	// FollowedUp records are expected to be followed up: without a
	// follow-up for the configured number of days they are stale.
	FollowedUp bool
	// TeamFiltered lists narrow by owner (owner_id=) and by the owner's
	// department and the departments below it (department_id=).
	TeamFiltered bool
	// ListFilters are the list's filters that are no field (name →
	// what it does), for the API document.
	ListFilters map[string]string

	// newRecord makes an empty record of the object (NewRecord).
	newRecord func() ObjectOf

	// Fields are the built-in fields, in the order forms and exports show them.
	Fields []FieldSpec
	// Excluded names the table's columns that are not described fields,
	// each with the reason: the record's own columns (id, owner, authorship,
	// version, recycle-bin mark) and bookkeeping no user sets or sees.
	Excluded map[string]string
}

// DataKeyColumn names the column of the object's table holding the data
// key its sealed values are under: a person's (Personal objects), or one of
// the record's own when the table has a data_key column; "" for none.
func (s ObjectSpec) DataKeyColumn() string {
	switch {
	case s.Personal:
		return "person_key"
	case s.Excluded["data_key"] != "":
		return "data_key"
	}
	return ""
}

// Field returns the object's built-in field of the JSON name.
func (s ObjectSpec) Field(name string) (FieldSpec, bool) {
	i := slices.IndexFunc(s.Fields, func(f FieldSpec) bool { return f.Name == name })
	if i < 0 {
		return FieldSpec{}, false
	}
	return s.Fields[i], true
}

// Specs returns every object's description, in menu order (as Objects).
// The descriptions are copies: changing them changes nothing else.
func Specs() []ObjectSpec {
	out := make([]ObjectSpec, len(registry))
	for i, s := range registry {
		out[i] = s.clone()
	}
	return out
}

// Spec returns the description of one object.
func Spec(o Object) (ObjectSpec, bool) {
	for _, s := range registry {
		if s.Name == o {
			return s.clone(), true
		}
	}
	return ObjectSpec{}, false
}

// ObjectsWhere returns, in menu order, the objects whose description
// satisfies keep: the lists other layers need ("every recyclable object")
// derived instead of written out.
func ObjectsWhere(keep func(ObjectSpec) bool) []Object {
	var out []Object
	for _, s := range registry {
		if keep(s.clone()) {
			out = append(out, s.Name)
		}
	}
	return out
}

// FieldNames returns, in order, the JSON names of o's fields that keep
// selects (none for an object the registry does not describe).
func FieldNames(o Object, keep func(FieldSpec) bool) []string {
	s, _ := Spec(o)
	var out []string
	for _, f := range s.Fields {
		if keep(f) {
			out = append(out, f.Name)
		}
	}
	return out
}

// SealedFields returns the JSON names of o's sealed fields, in order.
func SealedFields(o Object) []string {
	return FieldNames(o, func(f FieldSpec) bool { return f.Sealed })
}

// ruleFieldsOf derives RuleFields: per object, the fields a field rule may
// name, with their masks.
func ruleFieldsOf() map[Object][]RuleField {
	out := map[Object][]RuleField{}
	for _, s := range registry {
		for _, f := range s.Fields {
			if f.RuleField {
				out[s.Name] = append(out[s.Name], RuleField{Name: f.Name, Mask: f.Mask})
			}
		}
	}
	return out
}

func (s ObjectSpec) clone() ObjectSpec {
	s.Sorts = slices.Clone(s.Sorts)
	s.Excluded = maps.Clone(s.Excluded)
	s.ListFilters = maps.Clone(s.ListFilters)
	s.Fields = slices.Clone(s.Fields)
	for i := range s.Fields {
		s.Fields[i].Options = slices.Clone(s.Fields[i].Options)
	}
	return s
}

// recordColumns are the columns every business record's table has, those
// of Record: they are the record's, not fields of the object.
var recordColumns = map[string]string{
	"id":         "the record's identity (Record.ID)",
	"owner_id":   "the owner (Record.OwnerID): the record scope reads it; it moves by claim, release, transfer and hand-over, never by an edit",
	"created_by": "authorship (Record), kept by the store on every write",
	"updated_by": "authorship (Record), kept by the store on every write",
	"created_at": "authorship (Record), kept by the store on every write; the lists' \"created\" order",
	"updated_at": "authorship (Record), kept by the store on every write; the lists' \"updated\" order",
	"version":    "optimistic concurrency (Record.Version): a stale write is refused",
	"deleted_at": "the recycle-bin mark (Record.DeletedAt)",
}

// The columns some objects' tables have beside their fields.
const (
	whyCustom         = "the custom field values as JSON, described by their definitions (CustomField), not here"
	whyPersonKey      = "the data key the personal fields are sealed under (Record.DataKey); never shown"
	whyArchivedAt     = "retention's archive mark (Record.ArchivedAt), set and cleared by the retention job and unarchiving"
	whyDeletedWithCus = "marks a record that went to the recycle bin with its customer, so restoring the customer brings back exactly those"
	whyCustomerKey    = "the data key the customer's follow-ups are sealed under, made with the first that needs it; never shown"
	whyFollowUpKey    = "the data key the content is sealed under (Record.DataKey): the person's it is about, else its customer's"
	whyReached        = "the furthest open or won stage's position in the deal's history, kept by the database for the funnel report (migration 0047); derived, never edited"
)

// excluded returns recordColumns plus the object's own excluded columns.
func excluded(own map[string]string) map[string]string {
	out := maps.Clone(recordColumns)
	maps.Copy(out, own)
	return out
}

// field starts the description of a field a user sets: importable and
// exportable, stored in the column of its name.
func field(name string, t FieldType, label string) FieldSpec {
	return FieldSpec{Name: name, Column: name, Type: t, Label: label, Importable: true, Exportable: true}
}

// ref starts the description of a reference to a record of o.
func ref(name string, o Object, label string) FieldSpec {
	f := field(name, TypeRef, label)
	f.Ref = o
	return f
}

// enum starts the description of a field taking one of options.
func enum(name string, options []string, label string) FieldSpec {
	f := field(name, TypeEnum, label)
	f.Options = options
	return f
}

// The modifiers of a field's description, chained after field, ref or enum.
func (f FieldSpec) rule(mask string) FieldSpec    { f.RuleField, f.Mask = true, mask; return f }
func (f FieldSpec) sealed() FieldSpec             { f.Sealed, f.Sensitive = true, true; return f }
func (f FieldSpec) sensitive() FieldSpec          { f.Sensitive = true; return f }
func (f FieldSpec) poolMasked() FieldSpec         { f.PoolMasked = true; return f }
func (f FieldSpec) search(k SearchKind) FieldSpec { f.Search = k; return f }
func (f FieldSpec) notExported() FieldSpec        { f.Exportable = false; return f }
func (f FieldSpec) filter() FieldSpec             { f.Filterable = true; return f }
func (f FieldSpec) sortAs(name string) FieldSpec  { f.Sort = name; return f }
func (f FieldSpec) weigh(w int) FieldSpec         { f.Weight = w; return f }
func (f FieldSpec) channel() FieldSpec            { f.Channel = true; return f }

// system marks a field the system keeps: no import sets it, no merge
// chooses it.
func (f FieldSpec) system() FieldSpec {
	f.System, f.Importable, f.Mergeable = true, false, false
	return f
}

// mergeable marks the user-set fields of an object whose duplicates are
// merged (those a duplicate check guards: customers, contacts, leads).
func mergeable(fields ...FieldSpec) []FieldSpec {
	for i := range fields {
		fields[i].Mergeable = !fields[i].System
	}
	return fields
}

// registry holds the descriptions, in menu order. Nothing outside this
// file changes it: Specs and Spec hand out copies.
var registry = []ObjectSpec{
	{
		newRecord: func() ObjectOf { return &Customer{} },
		Name:      ObjCustomer, Table: "customers", Alias: "c", Title: "name", Path: "customers", Label: "object.customer",
		TeamFiltered: true, Recyclable: true, Transferable: true, HandedOver: true, Shareable: true, Versioned: true, Custom: true, Paged: true, FollowedUp: true,
		Sorts:       []string{"updated", "created", "name", "next_follow_up"},
		ListFilters: map[string]string{"due": "overdue: the next follow-up was before today; today: it is today (in your time zone)"},
		Fields: mergeable(
			field("name", TypeText, "field.name").weigh(1).rule(MaskText).search(SearchName).sortAs("name"),
			field("industry", TypeText, "field.industry").weigh(1).rule(MaskText),
			enum("level", CustomerLevels, "field.level").weigh(1).rule(MaskText).filter(),
			enum("source", CustomerSources, "field.source").weigh(1).rule(MaskText),
			enum("status", CustomerStatuses, "field.status").rule(MaskText).filter(),
			field("province", TypeText, "field.province").weigh(1).rule(MaskText),
			field("city", TypeText, "field.city").weigh(1).rule(MaskText),
			field("address", TypeText, "field.address").weigh(1).rule(MaskText).sensitive(),
			field("website", TypeURL, "field.website").rule(MaskText),
			field("phone", TypePhone, "field.phone").weigh(1).channel().rule(MaskPhone).sensitive().poolMasked().search(SearchPhone),
			field("email", TypeEmail, "field.email").weigh(1).channel().rule(MaskEmail).sensitive().poolMasked().search(SearchEmail),
			field("credit_code", TypeCreditCode, "field.credit_code").weigh(1).rule(MaskID).sensitive().search(SearchCreditCode),
			field("tags", TypeTags, "field.tags").rule(MaskNone),
			field("last_followed_up_at", TypeTime, "field.last_followed_up_at").system(),
			field("next_follow_up_at", TypeTime, "field.next_follow_up_at").system().sortAs("next_follow_up"),
		),
		Excluded: excluded(map[string]string{"custom": whyCustom, "data_key": whyCustomerKey}),
	},
	{
		newRecord: func() ObjectOf { return &Contact{} },
		Name:      ObjContact, Table: "contacts", Alias: "t", Title: "name", Path: "contacts", Label: "object.contact", Parent: ObjCustomer,
		TeamFiltered: true, Recyclable: true, FollowsParent: true, Transferable: true, HandedOver: true, Versioned: true, Custom: true, Personal: true,
		Paged: true, Sorts: []string{"updated", "created"},
		Fields: mergeable(
			ref("customer_id", ObjCustomer, "field.customer_id").weigh(1).filter(),
			field("name", TypeText, "field.person_name").weigh(1).sealed().rule(MaskName).search(SearchName),
			field("title", TypeText, "field.title").weigh(1).rule(MaskText),
			field("mobile", TypePhone, "field.mobile").weigh(1).channel().sealed().rule(MaskPhone).search(SearchPhone),
			field("phone", TypePhone, "field.phone").channel().sealed().rule(MaskPhone).search(SearchPhone),
			field("email", TypeEmail, "field.email").weigh(1).channel().sealed().rule(MaskEmail).search(SearchEmail),
			field("wechat", TypeText, "field.wechat").sealed().rule(MaskText),
			field("notes", TypeLongText, "field.notes").sealed().rule(MaskText),
		),
		Excluded: excluded(map[string]string{"custom": whyCustom, "person_key": whyPersonKey, "archived_at": whyArchivedAt,
			"deleted_with_customer": whyDeletedWithCus}),
	},
	{
		newRecord: func() ObjectOf { return &Lead{} },
		Name:      ObjLead, Table: "leads", Alias: "l", Title: "name", Path: "leads", Label: "object.lead",
		TeamFiltered: true, Recyclable: true, Transferable: true, HandedOver: true, Shareable: true, Versioned: true, Custom: true, Personal: true, FollowedUp: true,
		Paged: true, Sorts: []string{"updated", "created"},
		Fields: mergeable(
			field("name", TypeText, "field.person_name").weigh(1).sealed().rule(MaskName).search(SearchName),
			field("company", TypeText, "field.company").weigh(1).rule(MaskText).search(SearchName),
			field("title", TypeText, "field.title").rule(MaskText),
			field("mobile", TypePhone, "field.mobile").weigh(1).channel().sealed().rule(MaskPhone).search(SearchPhone),
			field("email", TypeEmail, "field.email").weigh(1).channel().sealed().rule(MaskEmail).search(SearchEmail),
			field("wechat", TypeText, "field.wechat").channel().sealed().rule(MaskText),
			enum("source", CustomerSources, "field.source").weigh(1).rule(MaskText),
			// "converted" is set only by the conversion.
			enum("status", LeadStatuses, "field.status").filter(),
			field("notes", TypeLongText, "field.notes").sealed().rule(MaskText),
			// What a conversion made of the lead.
			ref("customer_id", ObjCustomer, "field.customer_id").system(),
			ref("contact_id", ObjContact, "field.contact").system(),
			ref("opportunity_id", ObjOpportunity, "field.opportunity_id").system(),
			field("converted_at", TypeTime, "field.converted_at").system(),
		),
		Excluded: excluded(map[string]string{"custom": whyCustom, "person_key": whyPersonKey, "archived_at": whyArchivedAt}),
	},
	{
		newRecord: func() ObjectOf { return &Opportunity{} },
		Name:      ObjOpportunity, Table: "opportunities", Alias: "o", Title: "name", Path: "opportunities", Label: "object.opportunity", Parent: ObjCustomer,
		TeamFiltered: true, Recyclable: true, FollowsParent: true, Transferable: true, HandedOver: true, Versioned: true, Custom: true, Paged: true,
		Sorts:       []string{"updated", "amount", "created"},
		ListFilters: map[string]string{"stalled_days": "only open opportunities without a stage change or a follow-up about them for this many days"},
		Fields: []FieldSpec{
			ref("customer_id", ObjCustomer, "field.customer_id").filter(),
			field("name", TypeText, "field.name").rule(MaskText).search(SearchName),
			field("amount", TypeMoney, "field.amount").weigh(1).rule(MaskNone).sortAs("amount"),
			field("currency", TypeCurrency, "field.currency").rule(MaskNone),
			field("expected_close_date", TypeDate, "field.expected_close_date").weigh(1).rule(MaskNone),
			// The stage moves through its own use case (MoveOpportunity),
			// which also sets the lost reason.
			field("stage_id", TypeStage, "field.stage_id").weigh(1).filter(),
			field("lost_reason", TypeText, "field.lost_reason"),
			field("probability", TypePercent, "field.probability").system(),
			field("stage_changed_at", TypeTime, "field.stage_changed_at").system(),
			field("closed_at", TypeTime, "opportunity.closed_at").system(),
		},
		Excluded: excluded(map[string]string{"custom": whyCustom, "deleted_with_customer": whyDeletedWithCus, "reached_position": whyReached}),
	},
	{
		// A contract's number is unique among the organisation's live
		// contracts (a duplicate-check key); its opportunity, if any, is
		// one of its customer's.
		newRecord: func() ObjectOf { return &Contract{} },
		Name:      ObjContract, Table: "contracts", Alias: "ct", Title: "name", Path: "contracts", Label: "object.contract", Parent: ObjCustomer,
		TeamFiltered: true, Recyclable: true, FollowsParent: true, Transferable: true, HandedOver: true, Versioned: true, Custom: true, Paged: true,
		Sorts: []string{"updated", "amount", "created"},
		Fields: []FieldSpec{
			ref("customer_id", ObjCustomer, "field.customer_id").filter(),
			ref("opportunity_id", ObjOpportunity, "field.opportunity_id").filter(),
			field("number", TypeText, "field.number").rule(MaskText).search(SearchName),
			field("name", TypeText, "field.contract_name").rule(MaskText).search(SearchName),
			field("amount", TypeMoney, "field.amount").rule(MaskNone).sortAs("amount"),
			field("currency", TypeCurrency, "field.currency").rule(MaskNone),
			field("signed_on", TypeDate, "field.signed_on").rule(MaskNone),
			field("starts_on", TypeDate, "field.starts_on").rule(MaskNone),
			field("ends_on", TypeDate, "field.ends_on").rule(MaskNone),
			enum("status", ContractStatuses, "field.status").rule(MaskText).filter(),
			// What is written about a deal may name people: the audit
			// trail records it by reference.
			field("notes", TypeLongText, "field.notes").rule(MaskText).sensitive(),
		},
		Excluded: excluded(map[string]string{"custom": whyCustom, "deleted_with_customer": whyDeletedWithCus}),
	},
	{
		// Follow-ups keep versions; their content is sealed under the key
		// of the person they are about, else their customer's.
		newRecord: func() ObjectOf { return &FollowUp{} },
		Name:      ObjFollowUp, Table: "follow_ups", Alias: "f", Title: "content", Path: "follow-ups", Label: "object.followup", Parent: ObjCustomer,
		Recyclable: true, FollowsParent: true, Versioned: true,
		Fields: []FieldSpec{
			enum("kind", FollowUpKinds, "field.kind").rule(MaskNone),
			field("content", TypeLongText, "field.content").sealed().rule(MaskText),
			field("occurred_at", TypeTime, "field.occurred_at").rule(MaskNone),
			field("next_at", TypeTime, "field.next_at").rule(MaskNone),
			// What the follow-up is about: a customer (directly, or through
			// one of its contacts or opportunities) or a lead.
			ref("customer_id", ObjCustomer, "field.customer_id").filter(),
			ref("contact_id", ObjContact, "field.contact").filter(),
			ref("opportunity_id", ObjOpportunity, "field.opportunity_id").filter(),
			ref("lead_id", ObjLead, "field.lead_id").filter(),
		},
		Excluded: excluded(map[string]string{"deleted_with_customer": whyDeletedWithCus, "data_key": whyFollowUpKey}),
	},
	{
		// A task's owner is its assignee (TaskFields.AssigneeID).
		newRecord: func() ObjectOf { return &Task{} },
		Name:      ObjTask, Table: "tasks", Alias: "k", Title: "title", Path: "tasks", Label: "object.task", Parent: ObjCustomer,
		TeamFiltered: true, Recyclable: true, HandedOver: true,
		ListFilters: map[string]string{"due": "overdue: only open tasks past their due time"},
		Fields: []FieldSpec{
			field("title", TypeText, "field.task_title"),
			field("notes", TypeLongText, "field.notes"),
			field("due_at", TypeTime, "field.due_at").filter(),
			ref("customer_id", ObjCustomer, "field.customer_id").filter(),
			field("done", TypeBool, "field.done").filter(),
			field("done_at", TypeTime, "field.done_at").system(),
			// The opportunity the task is about (one of its customer's):
			// a stage's criteria count its completed tasks.
			ref("opportunity_id", ObjOpportunity, "field.opportunity_id"),
		},
		Excluded: excluded(nil),
	},
}

// JoinObjects names objects in a message: "customer, contact, lead".
func JoinObjects(os []Object) string {
	names := make([]string, len(os))
	for i, o := range os {
		names[i] = string(o)
	}
	return strings.Join(names, ", ")
}
