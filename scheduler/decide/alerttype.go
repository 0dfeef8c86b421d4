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

// alertTypeNames is the one table of what mon calls each alert type
// besides MON_ALERTTYPE: the flag an alert program gets, and the word
// the alert history and the log use.
var alertTypeNames = map[AlertType]struct{ flag, history string }{
	FailureAlert:     {"", "alert"},
	UpAlert:          {"-u", "upalert"},
	StartupAlert:     {"", "startupalert"},
	AckAlert:         {"-a", "ackalert"},
	DisableAlert:     {"-D", "disablealert"},
	TrapAlert:        {"-T", "trapalert"},
	TrapTimeoutAlert: {"-O", "traptimeoutalert"},
	TestAlert:        {"", "testalert"},
}

// Flag is the command-line flag mon passes an alert program for t
// ("" for none).
func (t AlertType) Flag() string { return alertTypeNames[t].flag }

// HistoryWord is the TYPE word of alert history lines and log messages.
func (t AlertType) HistoryWord() string {
	if n, ok := alertTypeNames[t]; ok {
		return n.history
	}
	return string(t) + "alert"
}

// AlertTypeOfFlag is the alert type whose flag is flag (an alert program
// reading mon's command line).
func AlertTypeOfFlag(flag string) (AlertType, bool) {
	for t, n := range alertTypeNames {
		if n.flag != "" && n.flag == flag {
			return t, true
		}
	}
	return "", false
}
