def calendar_warnings(today=None):
    return []
