"""HTML pages of return visits (/visits/): the call list, the work page, planning by
hand, oversight and the monthly archive."""
