package crm

import (
	"encoding/json"
	"time"
)

// PersonRef is a contact or lead and the data key it is sealed under.
type PersonRef struct {
	Object Object
	ID     int64
	Key    string
}

// RecordVersion is a record's user-editable fields as one version left them.
type RecordVersion struct {
	Version   int64           `json:"version"`
	Fields    json.RawMessage `json:"fields"`
	ActorID   int64           `json:"actor_id"`
	ActorName string          `json:"actor_name"`
	At        time.Time       `json:"at"`
}

// DeletedRecord is one entry of the recycle bin.
type DeletedRecord struct {
	Object    Object    `json:"object"`
	ID        int64     `json:"id"`
	Name      string    `json:"name"`
	OwnerName string    `json:"owner_name"`
	DeletedAt time.Time `json:"deleted_at"`
	PurgeAt   time.Time `json:"purge_at"` // filled by the service: when the purge removes it
	// DataKey is the data key Name is sealed under, for a contact or lead.
	DataKey string `json:"-"`
}
