// The Portal module: server-rendered pages of the Recraftor portal (see PortalSite).
