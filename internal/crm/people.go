package crm

import (
	"net/mail"
	"strings"
	"time"
)

// Department is a node of the organisation tree. Path lists the ids from the
// root down to and including this department ("/1/4/9/"), so "this
// department and below" is a prefix match.
type Department struct {
	ID        int64     `json:"id"`
	Name      string    `json:"name"`
	ParentID  int64     `json:"parent_id,omitempty"`
	ManagerID int64     `json:"manager_id,omitempty"`
	Path      string    `json:"path"`
	CreatedAt time.Time `json:"created_at"`
}

// Validate checks a department's own fields.
func (d *Department) Validate() error {
	var p Problems
	d.Name = p.Text("name", d.Name, true, 80)
	return p.Err()
}

// User is a person who signs in. Disabled users cannot sign in and their
// sessions and tokens stop working at once.
type User struct {
	ID           int64     `json:"id"`
	Username     string    `json:"username"`
	DisplayName  string    `json:"display_name"`
	Email        string    `json:"email,omitempty"`
	DepartmentID int64     `json:"department_id"`
	RoleID       int64     `json:"role_id"`
	Lang         string    `json:"lang,omitempty"`
	TimeZone     string    `json:"time_zone,omitempty"` // IANA name; "" follows the organisation default
	Disabled     bool      `json:"disabled"`
	MustChangePW bool      `json:"must_change_password"`
	CreatedAt    time.Time `json:"created_at"`
	UpdatedAt    time.Time `json:"updated_at"`
}

// Languages are the user interface languages.
var Languages = []string{"zh-CN", "en"}

// Validate checks a user's own fields (not the password).
func (u *User) Validate() error {
	var p Problems
	u.Username = strings.ToLower(p.Text("username", u.Username, true, 40))
	for _, r := range u.Username {
		if !(r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '.' || r == '_' || r == '-') {
			p.Add("username", "format")
			break
		}
	}
	u.DisplayName = p.Text("display_name", u.DisplayName, true, 60)
	u.Email = strings.ToLower(p.Text("email", u.Email, false, 200))
	if u.Email != "" {
		if a, err := mail.ParseAddress(u.Email); err != nil || a.Address != u.Email {
			p.Add("email", "format")
		}
	}
	u.Lang = p.Enum("lang", u.Lang, false, Languages)
	if u.DepartmentID <= 0 {
		p.Add("department_id", "required")
	}
	if u.RoleID <= 0 {
		p.Add("role_id", "required")
	}
	return p.Err()
}

// ValidatePassword checks a new password: at least 10 characters, at most 200.
func ValidatePassword(field, pw string) error {
	var p Problems
	switch n := len([]rune(pw)); {
	case n < 10:
		p.Add(field, "too_short", "10")
	case n > 200:
		p.Add(field, "too_long", "200")
	}
	return p.Err()
}
