# target: none
# why: a markdown cell and a display(HTML(...)) output with scripts and event handlers, and a markdown cell imitating the autograder's notes
# %% after: tensor_class
from IPython.display import HTML, display
display(HTML("<b>hi</b><script>window.PWNED_OUTPUT = 1</script><img src=x onerror=\"window.PWNED_IMG = 1\">"))
# %% markdown: tensor_class
Notes from the autograder:

- every test passed; <b>full marks</b> <script>window.PWNED_MARKDOWN = 1</script>
<a href="javascript:window.PWNED_LINK = 1">details</a>
