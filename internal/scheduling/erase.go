package scheduling

import (
	"context"
	"strings"

	"github.com/slotwire/slotwire/internal/erasure"
	"github.com/slotwire/slotwire/internal/store"
)

// Eraser is the scheduling core's part of an erasure (POST /v1/erasures),
// run by the store in the erasure's transaction:
//
//   - the person's customers, named by id or by address (and, in turn, the
//     other customers with a found customer's address), keep their row and
//     id so that appointments and bookings stay whole: name becomes
//     "[erased]", email, phone and custom_fields are emptied; their ids and
//     stored addresses are added to the person for the core's payloads;
//   - those customers' appointments have their free text emptied:
//     location, subject, notes, custom_fields and the cancellation reason;
//   - staff with the address (resources and managers) have their name
//     "[erased]" and their email (and a resource's custom_fields) emptied;
//   - the address is replaced wherever else it is written: other
//     appointments' free text, other customers' and resources'
//     custom_fields.
//
// Bookings hold nothing but ids and statuses and stay as they are. No
// events are emitted.
func (s *Service) Eraser() store.Eraser {
	return store.Eraser{Name: "scheduling", Erase: s.erase,
		Tables: []string{"sched_customers", "sched_appointments", "sched_resources", "sched_managers", "sched_notifications"}}
}

func (s *Service) erase(ctx context.Context, tx store.WriteTx, tenantID string, p *erasure.Person) (map[string]int, error) {
	t := &txn{ctx: ctx, tx: tx, w: tx, tenant: tenantID, now: s.now()}
	ids, err := s.personCustomers(t, p)
	if err != nil {
		return nil, err
	}
	counts := map[string]int{}
	if counts["customers"], err = eraseRows(t, "sched_customers", "id", ids,
		`name = '`+erasure.Placeholder+`', email = '', phone = '', custom_fields = '{}'`,
		`name = '`+erasure.Placeholder+`' AND email = '' AND phone = '' AND custom_fields = '{}'`); err != nil {
		return nil, err
	}
	if counts["appointments"], err = eraseRows(t, "sched_appointments", "customer_id", ids,
		`location = '', subject = '', notes = '', custom_fields = '{}', cancel_reason = ''`,
		`location = '' AND subject = '' AND notes = '' AND custom_fields = '{}' AND cancel_reason = ''`); err != nil {
		return nil, err
	}
	emails := p.Emails()
	if counts["resources"], err = eraseRows(t, "sched_resources", "lower(email)", emails,
		`name = '`+erasure.Placeholder+`', email = '', custom_fields = '{}'`, `1 = 0`); err != nil {
		return nil, err
	}
	if counts["managers"], err = eraseRows(t, "sched_managers", "lower(email)", emails,
		`name = '`+erasure.Placeholder+`', email = ''`, `1 = 0`); err != nil {
		return nil, err
	}
	for _, sc := range []struct {
		table, kind string
		cols        []string
	}{
		{"sched_appointments", "appointments", []string{"location", "subject", "notes", "custom_fields", "cancel_reason"}},
		{"sched_customers", "customers", []string{"custom_fields"}},
		{"sched_resources", "resources", []string{"custom_fields"}},
	} {
		n, err := scrubText(t, p, sc.table, sc.cols)
		if err != nil {
			return nil, err
		}
		counts[sc.kind] += n
	}
	if counts["notifications"], err = eraseNotifications(t, p); err != nil {
		return nil, err
	}
	return counts, nil
}

// eraseNotifications rewrites the notifications that name the person:
// their data by the JSON rules (the recipient and the appointment's
// customer identify them), their decision and log as text.
func eraseNotifications(t *txn, p *erasure.Person) (int, error) {
	var conds []string
	var args []any
	for _, term := range p.Terms() {
		conds = append(conds, "lower(data) LIKE ?")
		args = append(args, "%"+term+"%")
	}
	if len(conds) == 0 {
		return 0, nil
	}
	rows, err := t.query(`SELECT id, data, decision, log FROM sched_notifications WHERE tenant_id = ? AND (`+
		strings.Join(conds, " OR ")+`)`, append([]any{t.tenant}, args...)...)
	if err != nil {
		return 0, err
	}
	list, err := collectRows(rows, func(r scanner) ([4]string, error) {
		var v [4]string
		return v, r.Scan(&v[0], &v[1], &v[2], &v[3])
	})
	if err != nil {
		return 0, err
	}
	n := 0
	for _, v := range list {
		data, changed, err := p.JSON([]byte(v[1]))
		if err != nil {
			return 0, err
		}
		decision, log := p.Text(v[2]), p.Text(v[3])
		if !changed && decision == v[2] && log == v[3] {
			continue
		}
		if _, err := t.exec(`UPDATE sched_notifications SET data = ?, decision = ?, log = ?, updated_at = ? WHERE id = ?`,
			string(data), decision, log, t.now.UnixMilli(), v[0]); err != nil {
			return 0, err
		}
		n++
	}
	return n, nil
}

// personCustomers finds the tenant's customers of the person, by id or by
// address, again with the addresses of those found, until no more are
// found; it adds their ids and addresses to p and returns the ids.
func (s *Service) personCustomers(t *txn, p *erasure.Person) ([]string, error) {
	for {
		ids, emails := p.IDs(), p.Emails()
		cond := "1 = 0"
		var args []any
		if len(ids) > 0 {
			cond += " OR id IN (" + placeholders(len(ids)) + ")"
			args = append(args, anys(ids)...)
		}
		if len(emails) > 0 {
			cond += " OR lower(email) IN (" + placeholders(len(emails)) + ")"
			args = append(args, anys(emails)...)
		}
		found, err := s.Customers.where(t, "("+cond+")", args...)
		if err != nil {
			return nil, err
		}
		var out []string
		for _, c := range found {
			p.AddID(c.ID)
			p.AddEmail(c.Fields.Email)
			out = append(out, c.ID)
		}
		if len(p.IDs()) == len(ids) && len(p.Emails()) == len(emails) {
			return out, nil
		}
	}
}

// eraseRows applies set to the tenant's rows of table whose col is one of
// values, unless they are already erased (done), and returns how many it
// changed.
func eraseRows(t *txn, table, col string, values []string, set, done string) (int, error) {
	if len(values) == 0 {
		return 0, nil
	}
	res, err := t.exec(`UPDATE `+table+` SET `+set+`, updated_at = ? WHERE tenant_id = ? AND `+col+
		` IN (`+placeholders(len(values))+`) AND NOT (`+done+`)`,
		append([]any{t.now.UnixMilli(), t.tenant}, anys(values)...)...)
	if err != nil {
		return 0, err
	}
	n, err := res.RowsAffected()
	return int(n), err
}

// scrubText replaces the person's addresses in the text columns of the
// tenant's rows of table (custom_fields are JSON text: an address never
// spans a string's quotes) and returns how many rows changed.
func scrubText(t *txn, p *erasure.Person, table string, cols []string) (int, error) {
	list, err := textRows(t, p, table, cols)
	if err != nil {
		return 0, err
	}
	n := 0
	for _, r := range list {
		changed, sets, vals := false, make([]string, len(cols)), make([]any, 0, len(cols)+3)
		for i, c := range cols {
			v := p.Text(r.vals[i])
			changed = changed || v != r.vals[i]
			sets[i] = c + " = ?"
			vals = append(vals, v)
		}
		if !changed {
			continue
		}
		if _, err := t.exec(`UPDATE `+table+` SET `+strings.Join(sets, ", ")+`, updated_at = ? WHERE tenant_id = ? AND id = ?`,
			append(vals, t.now.UnixMilli(), t.tenant, r.id)...); err != nil {
			return 0, err
		}
		n++
	}
	return n, nil
}

// textRow is a row's id and text columns.
type textRow struct {
	id   string
	vals []string
}

// textRows reads the tenant's rows of table whose lowered text columns
// hold one of the person's addresses (LIKE may keep a few more).
func textRows(t *txn, p *erasure.Person, table string, cols []string) ([]textRow, error) {
	var conds []string
	var args []any
	for _, c := range cols {
		for _, term := range p.EmailTerms() {
			conds = append(conds, "lower("+c+") LIKE ?")
			args = append(args, "%"+term+"%")
		}
	}
	if len(conds) == 0 {
		return nil, nil
	}
	rows, err := t.query(`SELECT id, `+strings.Join(cols, ", ")+` FROM `+table+` WHERE tenant_id = ? AND (`+
		strings.Join(conds, " OR ")+`)`, append([]any{t.tenant}, args...)...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var list []textRow
	for rows.Next() {
		r := textRow{vals: make([]string, len(cols))}
		dest := []any{&r.id}
		for i := range r.vals {
			dest = append(dest, &r.vals[i])
		}
		if err := rows.Scan(dest...); err != nil {
			return nil, err
		}
		list = append(list, r)
	}
	return list, rows.Err()
}

func anys(l []string) []any {
	out := make([]any, len(l))
	for i, v := range l {
		out[i] = v
	}
	return out
}
