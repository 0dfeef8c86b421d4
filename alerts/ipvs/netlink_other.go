//go:build !linux

package ipvs

import "errors"

// Netlink exists only on Linux; elsewhere it cannot be opened.
type Netlink struct{ Director }

var errNoNetlink = errors.New("ipvs netlink: IPVS exists only on Linux")

func NewNetlink() (*Netlink, error) { return nil, errNoNetlink }

func NewNetlinkAt(nsPath string) (*Netlink, error) { return nil, errNoNetlink }

func (n *Netlink) Close() {}
