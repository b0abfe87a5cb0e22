package crm

// Each business record says which object it is, so the layers that handle
// records generically (field rules, sealing, custom values) ask the record
// instead of switching on its type; what the object is — its fields, flags
// and table — they ask the registry (Spec).

// ObjectOf is implemented by every business record.
type ObjectOf interface{ Object() Object }

// WithCustom is implemented by the records of objects with custom fields.
type WithCustom interface {
	ObjectOf
	// CustomValues returns where the record keeps its custom values.
	CustomValues() *map[string]any
}

// Object names the record's object.
func (*Customer) Object() Object { return ObjCustomer }

// Object names the record's object.
func (*Contact) Object() Object { return ObjContact }

// Object names the record's object.
func (*Lead) Object() Object { return ObjLead }

// Object names the record's object.
func (*Opportunity) Object() Object { return ObjOpportunity }

// Object names the record's object.
func (*Contract) Object() Object { return ObjContract }

// Object names the record's object.
func (*FollowUp) Object() Object { return ObjFollowUp }

// Object names the record's object.
func (*Task) Object() Object { return ObjTask }

// CustomValues returns the record's custom values.
func (c *Customer) CustomValues() *map[string]any { return &c.Custom }

// CustomValues returns the record's custom values.
func (t *Contact) CustomValues() *map[string]any { return &t.Custom }

// CustomValues returns the record's custom values.
func (l *Lead) CustomValues() *map[string]any { return &l.Custom }

// CustomValues returns the record's custom values.
func (o *Opportunity) CustomValues() *map[string]any { return &o.Custom }

// CustomValues returns the record's custom values.
func (k *Contract) CustomValues() *map[string]any { return &k.Custom }

// NewRecord returns an empty record of o (nil for an object the registry
// does not describe): what generic code such as the API description
// reflects on.
func NewRecord(o Object) ObjectOf {
	s, ok := Spec(o)
	if !ok || s.newRecord == nil {
		return nil
	}
	return s.newRecord()
}
