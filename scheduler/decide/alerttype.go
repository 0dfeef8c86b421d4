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
	// gomon's flap_detection: the service started or stopped flapping.
	// They go to the period's alert lines without a flag (a mon alert
	// script reads them as down alerts; MON_ALERTTYPE tells them apart).
	FlappingAlert AlertType = "flapping"
	FlapStopAlert AlertType = "flapstop"
)

func (t AlertType) isFlap() bool { return t == FlappingAlert || t == FlapStopAlert }

// names is the one table of what mon calls an alert type besides
// MON_ALERTTYPE: the flag an alert program gets, and the word the alert
// history and the log use.
func (t AlertType) names() (flag, history string) {
	switch t {
	case FailureAlert:
		return "", "alert"
	case UpAlert:
		return "-u", "upalert"
	case AckAlert:
		return "-a", "ackalert"
	case DisableAlert:
		return "-D", "disablealert"
	case TrapAlert:
		return "-T", "trapalert"
	case TrapTimeoutAlert:
		return "-O", "traptimeoutalert"
	}
	return "", string(t) + "alert" // startup, test, flapping, flapstop
}

// Flag is the command-line flag mon passes an alert program for t
// ("" for none).
func (t AlertType) Flag() string {
	flag, _ := t.names()
	return flag
}

// HistoryWord is the TYPE word of alert history lines and log messages.
func (t AlertType) HistoryWord() string {
	_, word := t.names()
	return word
}

// AlertTypeOfFlag is the alert type whose flag is flag (an alert program
// reading mon's command line).
func AlertTypeOfFlag(flag string) (AlertType, bool) {
	for _, t := range []AlertType{UpAlert, AckAlert, DisableAlert, TrapAlert, TrapTimeoutAlert} {
		if t.Flag() == flag {
			return t, true
		}
	}
	return "", false
}
