package service

// ExactReports makes s's reports count the records (exact) or read the
// report counts where they can answer (the default), so a test can compare
// the two answers.
func ExactReports(s *Service, exact bool) { s.exactReports = exact }
