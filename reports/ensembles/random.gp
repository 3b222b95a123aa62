# Drawn by hecnn; render with: gnuplot reports/ensembles/random.gp
set terminal svg size 800,500 dynamic enhanced font 'sans,12' background rgb 'white'
set output 'reports/ensembles/random.svg'
set title 'random split: encrypted test accuracy by skew setting' noenhanced
set xlabel 'setting (0: uniform ... 5: fully skewed)' noenhanced
set ylabel 'test accuracy, encrypted (%)' noenhanced
set grid lc rgb '#dddddd'
set key outside right top noenhanced
set border lc rgb '#555555'
set yrange [0.000000:100.000000]
set style line 1 lc rgb '#1f77b4' lw 1.5 dt 2 pt 1
set style line 2 lc rgb '#d62728' lw 1.5 dt 2 pt 2
set style line 3 lc rgb '#2ca02c' lw 1.5 dt 2 pt 3
set style line 4 lc rgb '#ff7f0e' lw 1.5 dt 1 pt 4
set style line 5 lc rgb '#9467bd' lw 1.5 dt 1 pt 5
set style line 6 lc rgb '#8c564b' lw 1.5 dt 1 pt 6
set style line 7 lc rgb '#e377c2' lw 1.5 dt 1 pt 7
set style line 8 lc rgb '#7f7f7f' lw 1.5 dt 1 pt 1
plot 'reports/ensembles/random.dat' index 0 using 1:2 with linespoints ls 1 title 'member 0', \
     'reports/ensembles/random.dat' index 1 using 1:2 with linespoints ls 2 title 'member 1', \
     'reports/ensembles/random.dat' index 2 using 1:2 with linespoints ls 3 title 'member 2', \
     'reports/ensembles/random.dat' index 3 using 1:2 with linespoints ls 4 title 'mean', \
     'reports/ensembles/random.dat' index 4 using 1:2 with linespoints ls 5 title 'weighted', \
     'reports/ensembles/random.dat' index 5 using 1:2 with linespoints ls 6 title 'poly-softmax', \
     'reports/ensembles/random.dat' index 6 using 1:2 with linespoints ls 7 title 'normalized', \
     'reports/ensembles/random.dat' index 7 using 1:2 with linespoints ls 8 title 'stacked'
