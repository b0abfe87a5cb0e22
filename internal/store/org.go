package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"strconv"
	"time"

	"custos/internal/crm"
)

// InsertDepartment creates a department and sets its path below its parent.
func (tx *Tx) InsertDepartment(ctx context.Context, d *crm.Department) error {
	parentPath := "/"
	if d.ParentID != 0 {
		if err := tx.q.QueryRowContext(ctx, "SELECT path FROM departments WHERE id = $1", d.ParentID).Scan(&parentPath); err != nil {
			return mapErr("department", err)
		}
	}
	err := tx.q.QueryRowContext(ctx,
		"INSERT INTO departments (name, parent_id, manager_id, created_at) VALUES ($1, $2, $3, $4) RETURNING id",
		d.Name, nullID(d.ParentID), nullID(d.ManagerID), ms(d.CreatedAt)).Scan(&d.ID)
	if err != nil {
		return mapErr("insert department", err)
	}
	d.Path = parentPath + strconv.FormatInt(d.ID, 10) + "/"
	_, err = tx.q.ExecContext(ctx, "UPDATE departments SET path = $1 WHERE id = $2", d.Path, d.ID)
	return mapErr("set department path", err)
}

// UpdateDepartment renames a department, sets its manager and moves it
// (with its whole subtree) below a new parent.
func (tx *Tx) UpdateDepartment(ctx context.Context, d *crm.Department) error {
	var oldPath string
	if err := tx.q.QueryRowContext(ctx, "SELECT path FROM departments WHERE id = $1", d.ID).Scan(&oldPath); err != nil {
		return mapErr("department", err)
	}
	parentPath := "/"
	if d.ParentID != 0 {
		if err := tx.q.QueryRowContext(ctx, "SELECT path FROM departments WHERE id = $1", d.ParentID).Scan(&parentPath); err != nil {
			return mapErr("parent department", err)
		}
	}
	newPath := parentPath + strconv.FormatInt(d.ID, 10) + "/"
	if len(parentPath) >= len(oldPath) && parentPath[:len(oldPath)] == oldPath {
		return &crm.Error{Code: crm.Invalid, Message: "a department cannot move below itself",
			Fields: []crm.FieldError{{Field: "parent_id", Rule: "cycle"}}}
	}
	if _, err := tx.q.ExecContext(ctx, "UPDATE departments SET name = $1, parent_id = $2, manager_id = $3 WHERE id = $4",
		d.Name, nullID(d.ParentID), nullID(d.ManagerID), d.ID); err != nil {
		return mapErr("update department", err)
	}
	if newPath != oldPath {
		// Rewrite the prefix of the department and all its descendants.
		_, err := tx.q.ExecContext(ctx,
			"UPDATE departments SET path = $1 || substr(path, $2) WHERE path LIKE $3",
			newPath, len(oldPath)+1, oldPath+"%")
		if err != nil {
			return mapErr("move department", err)
		}
	}
	d.Path = newPath
	return nil
}

const departmentCols = "id, name, COALESCE(parent_id, 0), COALESCE(manager_id, 0), path, created_at"

func scanDepartment(row interface{ Scan(...any) error }) (crm.Department, error) {
	var d crm.Department
	var created int64
	err := row.Scan(&d.ID, &d.Name, &d.ParentID, &d.ManagerID, &d.Path, &created)
	d.CreatedAt = fromMS(created)
	return d, err
}

// GetDepartment returns one department.
func (tx *Tx) GetDepartment(ctx context.Context, id int64) (crm.Department, error) {
	d, err := scanDepartment(tx.q.QueryRowContext(ctx, "SELECT "+departmentCols+" FROM departments WHERE id = $1", id))
	return d, mapErr("department", err)
}

// ListDepartments returns every department in tree order.
func (tx *Tx) ListDepartments(ctx context.Context) ([]crm.Department, error) {
	rows, err := tx.q.QueryContext(ctx, "SELECT "+departmentCols+" FROM departments ORDER BY "+tx.orderText("path"))
	if err != nil {
		return nil, mapErr("list departments", err)
	}
	defer rows.Close()
	var out []crm.Department
	for rows.Next() {
		d, err := scanDepartment(rows)
		if err != nil {
			return nil, mapErr("scan department", err)
		}
		out = append(out, d)
	}
	return out, mapErr("list departments", rows.Err())
}

// InsertRole stores a role.
func (tx *Tx) InsertRole(ctx context.Context, r *crm.Role, now time.Time) error {
	grants, err := json.Marshal(r.Grants)
	if err != nil {
		return fmt.Errorf("store: encode grants: %w", err)
	}
	err = tx.q.QueryRowContext(ctx,
		"INSERT INTO roles (role_key, name, admin, audit, privacy, reports, grants, require_mfa, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $9) RETURNING id",
		r.Key, r.Name, r.Admin, r.Audit, r.Privacy, r.Reports, string(grants), r.RequireMFA, ms(now)).Scan(&r.ID)
	return mapErr("insert role", err)
}

// UpdateRole replaces a role's name, flags, grants and MFA requirement.
func (tx *Tx) UpdateRole(ctx context.Context, r *crm.Role, now time.Time) error {
	grants, err := json.Marshal(r.Grants)
	if err != nil {
		return fmt.Errorf("store: encode grants: %w", err)
	}
	res, err := tx.q.ExecContext(ctx, "UPDATE roles SET name = $1, admin = $2, audit = $3, privacy = $4, reports = $5, grants = $6, require_mfa = $7, updated_at = $8 WHERE id = $9",
		r.Name, r.Admin, r.Audit, r.Privacy, r.Reports, string(grants), r.RequireMFA, ms(now), r.ID)
	return expectOne(res, err, "role")
}

const roleCols = "id, role_key, name, admin, audit, privacy, reports, grants, require_mfa"

func scanRole(row scanner) (crm.Role, error) {
	var r crm.Role
	var grants string
	if err := row.Scan(&r.ID, &r.Key, &r.Name, &r.Admin, &r.Audit, &r.Privacy, &r.Reports, &grants, &r.RequireMFA); err != nil {
		return r, err
	}
	return r, decodeGrants(&r, grants)
}

func decodeGrants(r *crm.Role, grants string) error {
	if err := json.Unmarshal([]byte(grants), &r.Grants); err != nil {
		return fmt.Errorf("decode grants of role %d: %w", r.ID, err)
	}
	return nil
}

// GetRole returns one role.
func (tx *Tx) GetRole(ctx context.Context, id int64) (crm.Role, error) {
	r, err := scanRole(tx.q.QueryRowContext(ctx, "SELECT "+roleCols+" FROM roles WHERE id = $1", id))
	return r, mapErr("role", err)
}

// GetRoleByKey returns the role with the given key.
func (tx *Tx) GetRoleByKey(ctx context.Context, key string) (crm.Role, error) {
	r, err := scanRole(tx.q.QueryRowContext(ctx, "SELECT "+roleCols+" FROM roles WHERE role_key = $1", key))
	return r, mapErr("role", err)
}

// ListRoles returns every role.
func (tx *Tx) ListRoles(ctx context.Context) ([]crm.Role, error) {
	rows, err := tx.q.QueryContext(ctx, "SELECT "+roleCols+" FROM roles ORDER BY id")
	if err != nil {
		return nil, mapErr("list roles", err)
	}
	defer rows.Close()
	var out []crm.Role
	for rows.Next() {
		r, err := scanRole(rows)
		if err != nil {
			return nil, mapErr("scan role", err)
		}
		out = append(out, r)
	}
	return out, mapErr("list roles", rows.Err())
}

func expectOne(res sql.Result, err error, what string) error {
	n, err := affected(res, err, "update "+what)
	if err != nil {
		return err
	}
	if n == 0 {
		return crm.ErrNotFound(what)
	}
	return nil
}

// affected returns how many rows a statement changed.
func affected(res sql.Result, err error, op string) (int64, error) {
	if err != nil {
		return 0, mapErr(op, err)
	}
	n, err := res.RowsAffected()
	return n, mapErr(op, err)
}
