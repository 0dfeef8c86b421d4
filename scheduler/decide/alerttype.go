package decide

// AlertType is the kind of event an alert is called for, as mon passes
// it in MON_ALERTTYPE. The engine decides which type an event calls;
// package alerts carries it to the program (and its command-line flag).
type AlertType string

const (
	FailureAlert     AlertType = "failure"
	UpAlert          AlertType = "up"
	StartupAlert     AlertType = "startup"
	AckAlert         AlertType = "ack"
	DisableAlert     AlertType = "disable"
	TrapAlert        AlertType = "trap"
	TrapTimeoutAlert AlertType = "traptimeout"
	TestAlert        AlertType = "test"
)
